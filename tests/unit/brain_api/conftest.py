"""Fixtures for the API tests: a real chdb store in a temp dir, the app around it, tokens per role.

chdb allows one data directory per process, so every module shares the session's directory and gets its
own database (migrated once per module).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

ADMIN_SECRET = "test-admin-" + uuid.uuid4().hex
os.environ["CITYBRAIN_ADMIN_TOKEN"] = ADMIN_SECRET
os.environ.setdefault("CITYBRAIN_API_RATE_LIMIT_BURST", "100000")
os.environ.setdefault("CITYBRAIN_API_RATE_LIMIT_PER_S", "100000")
# These tests write rows straight into the store (as the sink would) and read them back at once; the
# shared-read cache would rightly serve the answer from a moment ago. It has its own tests
# (test_response_cache.py), so it is off here.
os.environ.setdefault("CITYBRAIN_API_CACHE_TTL_S", "0")

CELL = "88309a553dfffff"
OTHER_CELL = "88309a5537fffff"


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.getbasetemp() / "chdb")


@pytest.fixture(scope="module")
def store(chdb_dir: str) -> Iterator[Any]:
    from streams.storage.embedded import EmbeddedStore
    from streams.storage.migrate import migrate

    s = EmbeddedStore(chdb_dir, database=f"api_{uuid.uuid4().hex[:10]}")
    migrate(s)
    yield s
    s.command(f"DROP DATABASE IF EXISTS {s.database}")


@pytest.fixture(scope="module")
def app(store: Any) -> Any:
    from brain_api.settings import get_api_settings

    get_api_settings.cache_clear()
    from brain_api.main import create_app

    return create_app(store=store, background=False)


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def issue(store: Any) -> Callable[..., str]:
    """`issue(Role.operator, department=..., cells=...)` -> a bearer secret stored in the real token table."""
    from brain_api.security.token_store import TokenStore

    def make(role: Any, *, department: str | None = None, cells: tuple[str, ...] = (),
             expires_at: datetime | None = None) -> str:
        issued, _ = TokenStore(store).create(role, department=department, cells=cells, expires_at=expires_at,
                                             created_by="test")
        return issued.secret

    return make


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def alert_row(**over: Any) -> dict[str, Any]:
    """One `alerts` row as the sink writes it (evidence as a JSON string)."""
    n = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    evidence = over.pop("evidence", [{
        "anomaly_id": f"an-{n}", "device_id": "tdet-0042", "metric": "speed_kmh", "observed": 8.0,
        "expected": 45.0, "score": 0.97, "detector": "seasonal", "time": now.isoformat(), "event_id": f"e-{n}",
    }])
    row = {
        "id": f"al-{n}", "incident_id": f"in-{n}", "department": "traffic", "category": "traffic",
        "sub_category": "trafficJam", "severity": "high", "confidence": 0.9, "title": "Speed collapse",
        "description": "speed_kmh far below its baseline", "cell": CELL, "lat": 30.2741, "lon": 120.1551,
        "evidence": orjson.dumps(evidence).decode(), "created_at": now, "version": 1, "kafka_partition": 0,
        "kafka_offset": 0, "inserted_at": now,
    }
    row.update(over)
    return row


@pytest.fixture(scope="module")
def add_alerts(store: Any) -> Callable[..., list[dict[str, Any]]]:
    def add(*rows: dict[str, Any]) -> list[dict[str, Any]]:
        store.insert("alerts", {k: [r[k] for r in rows] for k in rows[0]})
        return list(rows)

    return add


def minutes_ago(m: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=m)
