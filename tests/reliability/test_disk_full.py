"""Fault (f): the filesystem under ClickHouse fills up while the city keeps talking.

The chdb directory sits on its own small tmpfs (root only; a file-size ulimit would only hit one file),
filled to ENOSPC with `dd`: a real "No space left on device", not a mock. The disk stays full for a
few seconds under load. Meanwhile the sink pauses and names the error, ingest
keeps accepting (Kafka holds the data) and the API keeps answering; once space is freed every accepted
event is stored exactly once and every part passes `CHECK TABLE`. (A remount read-only is refused while
chdb holds files open for writing, so "read-only disk" is not tested here.)
"""

from __future__ import annotations

import subprocess
import time

import httpx

from deploy.chaos import wait_stored
from tests.chdb_query import query_chdb
from tests.reliability.conftest import OUTAGE_S, settle


def _sink(platform) -> dict:
    r = httpx.get(f"{platform.base_url}/api/v1/stats", headers=platform.headers, timeout=15)
    assert r.status_code == 200, r.text
    return r.json()["sink"]


def _wait_sink(platform, predicate, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sink = _sink(platform)
        if predicate(sink):
            return sink
        time.sleep(0.5)
    raise AssertionError(f"sink never reached the expected state: {_sink(platform)}\n{platform.logs(20)}")


def _tables_intact(chdb_dir) -> None:
    for table in ("events", "deadletters", "anomalies", "alerts"):
        rows = query_chdb(chdb_dir, f"CHECK TABLE {table}")  # one row per part; none for an empty table
        assert all(int(r["is_passed"]) == 1 for r in rows) and (rows or table != "events"), (table, rows)


def test_disk_full_names_the_error_then_catches_up_without_corruption(start_platform, feeder_for, tmpfs, tmp_path):
    data_dir = tmp_path / "citybrain"
    chdb = tmpfs(data_dir / "chdb", "256m")
    platform = start_platform(data_dir=data_dir)
    feeder = feeder_for(platform)
    feeder.warm_up(60)
    assert wait_stored(platform, len(feeder.ledger.accepted), 90), platform.logs()
    filler = chdb / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True, check=False)  # to ENOSPC
    try:
        with feeder.live(rate=150):
            full = _wait_sink(platform, lambda s: s["paused"] and s["errors"], 60)
            assert httpx.get(f"{platform.base_url}/healthz", timeout=5).status_code == 200
            time.sleep(min(OUTAGE_S, 5.0))  # long outages are test_clickhouse_outage's job
    finally:
        filler.unlink()
    reason = str(full["last_error"]).lower()
    assert "no space left" in reason or "not enough space" in reason, full
    settle(platform, feeder, timeout_s=120)
    _tables_intact(chdb)
