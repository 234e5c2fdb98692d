"""One suite, both backends: chdb in-process and a real clickhouse-server (18.16, compatible table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from streams.storage.base import StoreUnavailable
from streams.storage.errors import QueryRejected

pytestmark = pytest.mark.integration

READINGS = """CREATE TABLE IF NOT EXISTS readings (device_id String, metric String, value Float64,
    lat Nullable(Float64), at DateTime('UTC'), tags Array(String), kafka_offset Int64)
    ENGINE = MergeTree ORDER BY (device_id, at)"""
T0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


def _batch(n: int, start: int = 0) -> dict[str, Any]:
    return {
        "device_id": [f"d{i % 7}" for i in range(start, start + n)],
        "metric": ["speed_kmh"] * n,
        "value": np.arange(start, start + n, dtype=np.float64),
        "lat": [None if i % 2 else 30.27 for i in range(start, start + n)],
        "at": [T0 + timedelta(seconds=i) for i in range(start, start + n)],
        "tags": [["a", "b'c"] if i % 3 == 0 else [] for i in range(start, start + n)],
        "kafka_offset": np.arange(start, start + n, dtype=np.int64),
    }


def test_columnar_batch_round_trips_with_types(any_store: Any) -> None:
    any_store.command(READINGS)
    assert any_store.insert("readings", _batch(5000)) == 5000
    rows = any_store.query(
        "SELECT device_id, value, lat, at, tags FROM readings WHERE device_id = {d:String} ORDER BY at LIMIT 2",
        {"d": "d0"},
    )
    assert rows[0] == {"device_id": "d0", "value": 0.0, "lat": 30.27, "at": rows[0]["at"], "tags": ["a", "b'c"]}
    assert rows[0]["at"].replace(tzinfo=UTC) == T0
    assert rows[1]["lat"] is None  # offset 7 is odd: NULL survives as None, not NaN
    assert any_store.query("SELECT count() AS n FROM readings")[0]["n"] == 5000


def test_bound_parameters_are_never_sql(any_store: Any) -> None:
    any_store.command(READINGS)
    hostile = "d0' OR 1=1 --\\"
    any_store.insert("readings", {**_batch(1), "device_id": [hostile]})
    any_store.insert("readings", _batch(10, start=1))
    assert any_store.query("SELECT count() AS n FROM readings WHERE device_id = {d:String}", {"d": hostile}) == [
        {"n": 1}
    ]
    assert any_store.query("SELECT count() AS n FROM readings WHERE device_id = {d:String}", {"d": "d0' OR 1=1 --"})[
        0
    ]["n"] == 0
    since = T0 + timedelta(seconds=5)
    rows = any_store.query(
        "SELECT count() AS n FROM readings WHERE at >= {since:DateTime('UTC')} AND has({ds:Array(String)}, device_id)",
        {"since": since, "ds": ["d5", "d6", hostile]},
    )
    assert rows[0]["n"] == 2  # offsets 5 and 6; the hostile row is at T0


def test_rejected_statement_is_a_bug_not_an_outage(any_store: Any) -> None:
    with pytest.raises(QueryRejected):
        any_store.query("SELECT * FROM no_such_table")
    with pytest.raises(KeyError):
        any_store.query("SELECT {a:UInt8} AS a", {})


def test_dedup_token_where_the_server_honours_it(any_store: Any) -> None:
    any_store.command(READINGS.replace("ORDER BY (device_id, at)", "ORDER BY (device_id, at)" + (
        " SETTINGS non_replicated_deduplication_window = 100" if any_store.backend == "chdb" else "")))
    batch = _batch(100)
    any_store.insert("readings", batch, dedup_token="readings-0-99")
    any_store.insert("readings", batch, dedup_token="readings-0-99")
    n = any_store.query("SELECT count() AS n FROM readings")[0]["n"]
    if any_store.backend == "chdb":
        assert n == 100
    else:  # 18.16 has no insert_deduplication_token: the sink re-checks stored offsets instead
        assert any_store.server_version < (22, 2) and n == 200


def test_server_outage_raises_unavailable_then_recovers(server_store: Any, clickhouse_server: Any) -> None:
    server_store.command(READINGS)
    server_store.insert("readings", _batch(10))
    clickhouse_server.stop()
    try:
        with pytest.raises(StoreUnavailable):
            server_store.query("SELECT count() AS n FROM readings")
        with pytest.raises(StoreUnavailable):
            server_store.insert("readings", _batch(10, start=10))
    finally:
        clickhouse_server.start()
    assert server_store.query("SELECT count() AS n FROM readings")[0]["n"] == 10  # reconnects by itself
    server_store.insert("readings", _batch(10, start=10))
    assert server_store.query("SELECT count() AS n FROM readings")[0]["n"] == 20
