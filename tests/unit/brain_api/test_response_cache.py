"""The shared-read cache: one query serves every screen of a scope, a write clears it, scopes never mix."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from brain_api.response_cache import ResponseCache
from brain_api.security.roles import Role
from tests.unit.brain_api.conftest import OTHER_CELL, alert_row, bearer


def test_concurrent_misses_compute_once() -> None:
    cache, calls, gate = ResponseCache(ttl_s=60), [], threading.Event()

    def slow() -> bytes:
        calls.append(1)
        gate.wait(5)
        return b"answer"

    answers: list[bytes] = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(5)
    assert answers == [b"answer"] * 8
    assert len(calls) == 1 and cache.misses == 1 and cache.hits == 7


def test_expires_after_ttl_and_a_clear_during_a_flight_is_not_undone() -> None:
    cache = ResponseCache(ttl_s=0.05)
    assert cache.get_or_compute("k", lambda: b"1") == b"1"
    time.sleep(0.1)
    assert cache.get_or_compute("k", lambda: b"2") == b"2"

    def racing() -> bytes:
        cache.clear()  # a write lands while this answer is being computed: it must not be kept
        return b"stale"

    assert cache.get_or_compute("other", racing) == b"stale"
    assert cache.get_or_compute("other", lambda: b"fresh") == b"fresh"


def test_zero_ttl_turns_it_off() -> None:
    cache, n = ResponseCache(ttl_s=0), iter(range(10))
    assert cache.get_or_compute("k", lambda: str(next(n)).encode()) == b"0"
    assert cache.get_or_compute("k", lambda: str(next(n)).encode()) == b"1"


@pytest.fixture()
def cached_client(store: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from brain_api.main import create_app
    from brain_api.settings import get_api_settings

    monkeypatch.setenv("CITYBRAIN_API_CACHE_TTL_S", "60")
    get_api_settings.cache_clear()
    try:
        with TestClient(create_app(store=store, background=False)) as c:
            yield c
    finally:
        monkeypatch.undo()
        get_api_settings.cache_clear()


def test_api_list_is_shared_until_an_action_clears_it(cached_client: Any, issue: Any, add_alerts: Any) -> None:
    operator, other = bearer(issue(Role.operator)), bearer(issue(Role.operator))
    worker = bearer(issue(Role.grid_worker, cells=(OTHER_CELL,)))
    (first,) = add_alerts(alert_row())

    def ids(headers: dict[str, str]) -> list[str]:
        r = cached_client.get("/api/v1/alerts", headers=headers)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["data"]]

    assert first["id"] in ids(operator)
    assert ids(worker) == []  # same query, other scope: its own answer, not the operator's
    (second,) = add_alerts(alert_row())
    assert second["id"] not in ids(other)  # another operator's screen gets the shared answer (no new query)

    r = cached_client.post(f"/api/v1/alerts/{first['id']}/ack", json={"note": "on it"}, headers=operator)
    assert r.status_code == 200, r.text
    listed = {a["id"]: a["state"] for a in cached_client.get("/api/v1/alerts", headers=other).json()["data"]}
    assert listed[first["id"]] == "acknowledged" and second["id"] in listed  # the action cleared the cache
