"""Migrations on real ClickHouse: applied once and in order, retention templated, edits refused, rollups fed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.settings import ClickHouseSettings
from streams.storage.errors import IncompatibleServer
from streams.storage.migrate import MIGRATIONS_DIR, MigrationChanged, discover, migrate

pytestmark = pytest.mark.integration


def test_migrate_is_idempotent_and_recorded(chdb_store: Any) -> None:
    first = migrate(chdb_store)
    assert first == [f"{m.version:04d}_{m.name}" for m in discover()]
    assert migrate(chdb_store) == []
    versions = chdb_store.query("SELECT DISTINCT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in versions] == [m.version for m in discover()]
    tables = {r["name"] for r in chdb_store.query(
        "SELECT name FROM system.tables WHERE database = {db:String}", {"db": chdb_store.database})}
    assert {"events", "deadletters", "anomalies", "incidents", "alerts", "alert_transitions", "devices",
            "feedback", "audit_log", "rollup_cell_minute", "rollup_cell_hour", "sink_epochs"} <= tables


def test_retention_comes_from_settings(chdb_store: Any) -> None:
    migrate(chdb_store, ClickHouseSettings(retention_events_days=7, retention_audit_days=400))
    ddl = chdb_store.query("SELECT create_table_query AS q FROM system.tables WHERE database = {db:String}"
                           " AND name = {t:String}", {"db": chdb_store.database, "t": "events"})[0]["q"]
    assert "toIntervalDay(7)" in ddl
    audit = chdb_store.query("SELECT create_table_query AS q FROM system.tables WHERE database = {db:String}"
                             " AND name = 'audit_log'", {"db": chdb_store.database})[0]["q"]
    assert "toIntervalDay(400)" in audit


def test_an_applied_file_must_not_change(chdb_store: Any, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    migrate(chdb_store, directory=folder)
    events = next(folder.glob("0002_*.sql"))
    events.write_text(events.read_text() + "\n-- a comment is not a schema change\n")
    assert migrate(chdb_store, directory=folder) == []
    events.write_text(events.read_text().replace("ZSTD(3)", "ZSTD(5)"))
    with pytest.raises(MigrationChanged, match="0002"):
        migrate(chdb_store, directory=folder)


def test_old_server_is_refused_with_the_version_it_needs(server_store: Any) -> None:
    with pytest.raises(IncompatibleServer, match="needs 23.8"):
        migrate(server_store)


def test_rollups_follow_event_inserts(chdb_store: Any) -> None:
    migrate(chdb_store)
    t0 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    n = 600
    chdb_store.insert("events", {
        "id": [f"e{i}" for i in range(n)], "source": ["t"] * n, "type": ["reading"] * n,
        "time": [t0 + timedelta(seconds=i) for i in range(n)], "device_id": [f"d{i % 3}" for i in range(n)],
        "lat": [None] * n, "lon": [None] * n, "cell": ["c1"] * n, "category": ["traffic"] * n,
        "measurements": [{"speed_kmh": float(i % 60)} for i in range(n)], "attributes": [b"{}"] * n,
        "flags": [[]] * n, "schema_version": [1] * n, "received_at": [None] * n,
        "kafka_partition": [0] * n, "kafka_offset": list(range(n)), "inserted_at": [datetime.now(UTC)] * n,
    })
    minutes = chdb_store.query(
        "SELECT minute, sum(n) AS samples, min(lo) AS low, max(hi) AS high"
        " FROM rollup_cell_minute WHERE cell = {c:String} AND metric = 'speed_kmh' GROUP BY minute ORDER BY minute",
        {"c": "c1"},
    )
    assert len(minutes) == 10 and all(m["samples"] == 60 and m["low"] == 0 and m["high"] == 59 for m in minutes)
    hour = chdb_store.query("SELECT sum(n) AS samples, sum(total) / sum(n) AS mean, uniqMerge(devices) AS devices"
                            " FROM rollup_cell_hour")[0]
    assert hour == {"samples": 600, "mean": 29.5, "devices": 3}
    # 0023: the minute rollup keeps no device state (its per-group `uniq` cost ~2 µs per event)
    assert "devices" not in chdb_store.column_types("rollup_cell_minute")
