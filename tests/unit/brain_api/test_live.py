"""Live feed: the hub's resume/scope/backpressure rules, and SSE + WebSocket delivery over a real server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from brain_api.live.hub import LiveHub, SlowSubscriber
from brain_api.security.roles import Principal, Role
from tests.unit.brain_api.conftest import ADMIN_SECRET, CELL, alert_row, bearer

OPERATOR = Principal("t-op", Role.operator)


async def _take(it, n, timeout=1.0):
    return [await asyncio.wait_for(it.__anext__(), timeout) for _ in range(n)]


async def test_resume_after_last_event_id_and_scope_filtering():
    hub = LiveHub(capacity=10)
    first = [hub.publish("alert", {"id": f"a{i}", "department": "traffic" if i % 2 else "health"})
             for i in range(4)]
    resumed = hub.subscribe(OPERATOR, last_event_id=first[1].id)
    assert [m.data["id"] for m in await _take(resumed, 2)] == ["a2", "a3"]
    dept = hub.subscribe(Principal("t-d", Role.department, department="traffic"), last_event_id=0)
    assert [m.data["id"] for m in await _take(dept, 2)] == ["a1", "a3"]
    hub.publish("cell", {"cell": CELL, "department": "traffic", "status": "alert"})
    assert (await _take(resumed, 1))[0].event == "cell"
    await resumed.aclose()
    await dept.aclose()


async def test_a_slow_subscriber_is_cut_off_not_waited_for():
    hub = LiveHub(capacity=100, queue_size=2)
    slow = hub.subscribe(OPERATOR)
    first = asyncio.ensure_future(slow.__anext__())
    await asyncio.sleep(0)  # subscribed, not reading
    t0 = time.monotonic()
    for i in range(6):
        hub.publish("alert", {"id": f"a{i}"})
    assert time.monotonic() - t0 < 0.1  # publishing never waits for a reader
    await asyncio.sleep(0.05)
    with pytest.raises(SlowSubscriber):
        await first
        for _ in range(6):
            await slow.__anext__()
    assert hub.subscribers == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(app, client) -> Iterator[str]:
    """The module's app served by uvicorn on loopback (TestClient cannot stream an endless response)."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def _sse_events(resp: httpx.Response, n: int) -> list[tuple[str, str, dict]]:
    out, frame = [], {}
    for line in resp.iter_lines():
        if not line:
            if "data" in frame:
                out.append((frame.get("id", ""), frame.get("event", ""), orjson.loads(frame["data"])))
                if len(out) == n:
                    return out
            frame = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            frame[key] = value
    return out


def test_sse_delivers_a_transition_within_a_second_and_resumes(server, issue, add_alerts):
    (alert,) = add_alerts(alert_row())
    op = issue(Role.operator)
    with httpx.Client(base_url=server, timeout=5) as http:
        with http.stream("GET", "/api/v1/live", headers=bearer(op)) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            t0 = time.monotonic()
            assert http.post(f"/api/v1/alerts/{alert['id']}/ack", headers=bearer(op), json={}).status_code == 200
            ((event_id, kind, data),) = _sse_events(resp, 1)
            assert time.monotonic() - t0 < 1.0
            assert (kind, data["id"], data["state"]) == ("alert", alert["id"], "acknowledged")
        http.post(f"/api/v1/alerts/{alert['id']}/dispatch", headers=bearer(op), json={})
        headers = {**bearer(op), "Last-Event-ID": event_id}
        with http.stream("GET", "/api/v1/live", headers=headers) as resp:
            ((_, _, data),) = _sse_events(resp, 1)
            assert data["state"] == "dispatched"
        assert http.get("/api/v1/live").status_code == 401


def test_sse_accepts_access_token_query_and_filters_by_scope(server, issue, add_alerts):
    (theirs,) = add_alerts(alert_row(department="health", category="health"))
    (ours,) = add_alerts(alert_row(department="traffic"))
    dept = issue(Role.department, department="traffic")
    with httpx.Client(base_url=server, timeout=5) as http:
        with http.stream("GET", "/api/v1/live", params={"access_token": dept}) as resp:
            for a in (theirs, ours):
                http.post(f"/api/v1/alerts/{a['id']}/ack", headers=bearer(ADMIN_SECRET), json={})
            ((_, _, data),) = _sse_events(resp, 1)
            assert data["id"] == ours["id"]


def test_websocket_pushes_the_same_messages(client, issue, add_alerts):
    (alert,) = add_alerts(alert_row())
    op = issue(Role.operator)
    with client.websocket_connect(f"/api/v1/live/ws?access_token={op}") as ws:
        client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=bearer(op), json={})
        frame = orjson.loads(ws.receive_text())
        assert frame["event"] == "alert" and frame["data"]["id"] == alert["id"]
