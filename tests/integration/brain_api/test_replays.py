"""Replays against real chdb and the real broker: the engine re-emits exactly the selected events, in time
order per partition, packed like ingest; speed paces them; the API runs it in the background with
progress and refuses the live topic unless an admin asks for it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ingest.packing import partition_for
from ingest.publisher import EventPublisher
from streams.replay import ReplaySpec, ensure_topic, replay_from_store

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def insert_events(store: Any, rows: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    base = {"type": "reading", "lat": 30.2741, "lon": 120.1551, "cell": "88309a553dfffff", "attributes": "{}",
            "flags": [], "schema_version": 1, "received_at": now, "kafka_partition": 0, "kafka_offset": 0,
            "inserted_at": now}
    full = [{**base, **r} for r in rows]
    store.insert("events", {k: [r[k] for r in full] for k in full[0]})


@pytest.fixture(scope="module")
def history(store: Any) -> list[dict[str, Any]]:
    """900 events over three hours; groups of three share a timestamp (keyset ties); two categories."""
    rows = [{"id": f"h-{i:04d}", "source": "sim/traffic" if i % 3 else "sim/air",
             "time": T0 + timedelta(seconds=36 * (i // 3)), "device_id": f"dev-{i % 17}",
             "category": "traffic" if i % 3 else "air", "measurements": {"v": float(i)}} for i in range(900)]
    insert_events(store, rows)
    return rows


async def consume_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 20) -> list[tuple[int, list[dict]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        while not parts:
            await consumer.topics()
            parts = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in parts])
        out: list[tuple[int, list[dict]]] = []
        deadline = time.monotonic() + timeout_s
        while sum(len(evs) for _, evs in out) < expect and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=300)).items():
                out += [(tp.partition, orjson.loads(r.value)) for r in records]
        return out
    finally:
        await consumer.stop()


async def test_engine_replays_exactly_the_selection_in_order(store, history, kafka_bootstrap, unique_name):
    topic = f"citybrain.replay.{unique_name}"
    await ensure_topic(kafka_bootstrap, topic, partitions=3)
    spec = ReplaySpec(T0 + timedelta(minutes=30), T0 + timedelta(hours=2, minutes=30), categories=("traffic",))
    expected = [r for r in history if spec.start <= r["time"] < spec.end and r["category"] == "traffic"]
    progress: list[tuple[int, int]] = []
    async with EventPublisher(kafka_bootstrap, events_topic=topic) as pub:
        sent = await replay_from_store(store, spec, lambda evs: pub.publish(evs, topic=topic),
                                       progress=lambda s, t: progress.append((s, t)), page=100)
    assert sent == len(expected) == progress[-1][0] == progress[-1][1]
    messages = await consume_all(kafka_bootstrap, topic, len(expected))
    assert len(messages) < len(expected)  # packed: JSON arrays, not one message per event
    events = [e for _, evs in messages for e in evs]
    assert sorted(e["id"] for e in events) == sorted(r["id"] for r in expected)
    by_id = {r["id"]: r for r in expected}
    for partition, evs in messages:
        for e in evs:
            assert partition == partition_for(e["device_id"], 3)  # same partitioning as live ingest
            assert e["measurements"] == by_id[e["id"]]["measurements"] and e["category"] == "traffic"
    for partition in {p for p, _ in messages}:
        times = [(e["time"], e["id"]) for p, evs in messages if p == partition for e in evs]
        assert times == sorted(times)


async def test_speed_paces_the_replay(store, kafka_bootstrap, unique_name):
    start = T0 + timedelta(days=1)
    insert_events(store, [{"id": f"p-{i}", "source": "sim/pace", "time": start + timedelta(seconds=i),
                           "device_id": "pace-1", "category": "traffic", "measurements": {"v": 1.0}}
                          for i in range(5)])
    topic = f"citybrain.replay.{unique_name}"
    await ensure_topic(kafka_bootstrap, topic, partitions=1)
    spec = ReplaySpec(start, start + timedelta(minutes=1), sources=("sim/pace",), speed=4.0)
    async with EventPublisher(kafka_bootstrap, events_topic=topic) as pub:
        began = time.monotonic()
        assert await replay_from_store(store, spec, lambda evs: pub.publish(evs, topic=topic)) == 5
        took = time.monotonic() - began
    assert 0.9 <= took < 3.0  # 4 s of history at 4x


@pytest.fixture(scope="module")
def api(store: Any, kafka_bootstrap: str) -> Iterator[tuple[Any, Any]]:
    from fastapi.testclient import TestClient

    from brain_api.main import create_app
    from brain_api.replay import ReplayRunner
    from brain_api.security.token_store import TokenStore

    app = create_app(store=store, background=False)
    tokens = TokenStore(store)

    def token(role: Any) -> dict[str, str]:
        issued, _ = tokens.create(role, department="traffic" if role.value == "department" else None,
                                  cells=("88309a553dfffff",) if role.value == "grid-worker" else (),
                                  created_by="test")
        return {"Authorization": f"Bearer {issued.secret}"}

    with TestClient(app) as client:
        app.state.replays = ReplayRunner(store, kafka_bootstrap, persist_every_s=0.2)
        yield client, token


def wait_done(client: Any, headers: dict[str, str], replay_id: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/replays/{replay_id}", headers=headers).json()
        if body["state"] not in ("queued", "running"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"replay {replay_id} still {body['state']} after {timeout_s}s")


def test_api_runs_a_replay_in_the_background_with_progress(api, history, unique_name):
    from brain_api.security.roles import Role

    client, token = api
    engineer = token(Role.engineer)
    r = client.post("/api/v1/replays", headers=engineer, json={
        "from": T0.isoformat(), "to": (T0 + timedelta(hours=1)).isoformat(), "categories": ["air"],
        "speed": None, "topic": f"citybrain.replay.{unique_name}"})
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["state"] in ("queued", "running") and created["from"] == T0.isoformat().replace("+00:00", "Z")
    done = wait_done(client, engineer, created["id"])
    expected = sum(1 for h in history if h["category"] == "air" and h["time"] < T0 + timedelta(hours=1))
    assert (done["state"], done["sent"], done["total"], done["percent"]) == ("done", expected, expected, 100.0)
    listed = client.get("/api/v1/replays", headers=engineer).json()
    assert created["id"] in {x["id"] for x in listed["data"]}


def test_who_may_replay_and_where(api):
    from brain_api.security.roles import Role

    client, token = api
    window = {"from": T0.isoformat(), "to": (T0 + timedelta(minutes=1)).isoformat()}
    for role in (Role.operator, Role.department, Role.grid_worker):
        assert client.post("/api/v1/replays", headers=token(role), json=window).status_code == 403
    engineer, admin = token(Role.engineer), token(Role.admin)
    live = {**window, "topic": "citybrain.events.v1"}
    assert client.post("/api/v1/replays", headers=engineer, json=live).status_code == 422
    assert client.post("/api/v1/replays", headers=engineer, json={**live, "allow_live": True}).status_code == 403
    assert client.post("/api/v1/replays", headers=admin, json={**window, "topic": "orders.v1"}).status_code == 422
    backwards = {"from": window["to"], "to": window["from"]}
    assert client.post("/api/v1/replays", headers=engineer, json=backwards).status_code == 422
    empty = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T00:01:00Z", "topic": "citybrain.events.v1",
             "allow_live": True}
    r = client.post("/api/v1/replays", headers=admin, json=empty)
    assert r.status_code == 202
    assert wait_done(client, admin, r.json()["id"])["state"] == "done"
    assert client.get("/api/v1/replays/rp-0000000000000000", headers=engineer).status_code == 404


def test_a_replay_cut_off_by_a_restart_reads_as_interrupted(api, store):
    from brain_api.replay import ReplayRecord, save
    from brain_api.security.roles import Role

    client, token = api
    old = datetime.now(UTC) - timedelta(minutes=5)
    rec = ReplayRecord("rp-" + uuid.uuid4().hex[:16], "t", ReplaySpec(T0, T0 + timedelta(hours=1)),
                       "citybrain.replay.v1", state="running", total=10, sent=4, created_at=old, updated_at=old)
    save(store, rec)
    body = client.get(f"/api/v1/replays/{rec.id}", headers=token(Role.engineer)).json()
    assert (body["state"], body["sent"], body["percent"]) == ("interrupted", 4, 40.0)


def test_speed_must_be_positive(api):
    from brain_api.security.roles import Role

    client, token = api
    bad = {"from": T0.isoformat(), "to": (T0 + timedelta(minutes=1)).isoformat(), "speed": 0}
    assert client.post("/api/v1/replays", headers=token(Role.engineer), json=bad).status_code == 422




SEED_SCRIPT = """
import sys
from datetime import UTC, datetime, timedelta
from streams.storage.embedded import EmbeddedStore
from streams.storage.migrate import migrate
store = EmbeddedStore(sys.argv[1] + "/chdb", database="citybrain")
migrate(store)
t0, now, n = datetime(2026, 11, 20, 9, 0, tzinfo=UTC), datetime.now(UTC), 40
store.insert("events", {
    "id": [f"cli-{i}" for i in range(n)], "source": ["sim/cli"] * n, "type": ["reading"] * n,
    "time": [t0 + timedelta(seconds=i) for i in range(n)], "device_id": [f"d-{i % 4}" for i in range(n)],
    "lat": [None] * n, "lon": [None] * n, "cell": [""] * n,
    "category": ["traffic" if i % 2 else "air" for i in range(n)],
    "measurements": [{"v": float(i)} for i in range(n)], "attributes": ["{}"] * n, "flags": [[]] * n,
    "schema_version": [1] * n, "received_at": [now] * n, "kafka_partition": [0] * n, "kafka_offset": [0] * n,
    "inserted_at": [now] * n,
})
store.close()
"""


async def test_cli_replays_stored_events_through_the_same_engine(kafka_bootstrap, unique_name, tmp_path):
    import os
    import subprocess
    import sys

    data = tmp_path / "data"
    env = {**os.environ, "CITYBRAIN_DATA_DIR": str(data), "CITYBRAIN_KAFKA_BOOTSTRAP": kafka_bootstrap}
    env.pop("CITYBRAIN_CLICKHOUSE_URL", None)
    # separate processes: chdb lets one process own one directory, and this one already owns another
    subprocess.run([sys.executable, "-c", SEED_SCRIPT, str(data)], env=env, check=True, timeout=120)
    topic = f"citybrain.replay.{unique_name}"
    await ensure_topic(kafka_bootstrap, topic, partitions=2)
    done = subprocess.run(
        [sys.executable, "-m", "deploy.cli", "replay", "--from", "2026-11-20T09:00Z", "--to", "2026-11-20T10:00Z",
         "--category", "traffic", "--speed", "max", "--topic", topic],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"replayed 20 events to {topic}" in done.stdout
    events = [e for _, evs in await consume_all(kafka_bootstrap, topic, 20) for e in evs]
    assert sorted(e["id"] for e in events) == sorted(f"cli-{i}" for i in range(1, 40, 2))
