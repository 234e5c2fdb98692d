"""`citybrain bench storage --json` on a small scale: the command runs the sink's insert path into a fresh
chdb and reports the figures under the names the issue fixes (`insert_rows_per_s`, `query_p99_ms`);
`--through-kafka` runs a real sink against a fresh embedded broker.

Run as its own process, as users run it: chdb allows one data directory per process, and the test
session's fixtures may already own one. The figures themselves are benchmarks (BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

pytestmark = pytest.mark.integration


def test_bench_storage_stores_every_row_once_and_reports_the_contract_figures() -> None:
    done = subprocess.run([sys.executable, "-m", "deploy.cli", "bench", "storage", "--rows", "20000", "--json"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == result["stored_rows"] == 20_000, "every generated row stored exactly once"
    assert result["insert_rows_per_s"] > 0 and result["insert_rows_per_cpu_s"] > 0
    assert set(result["queries"]) == {"latest_alerts", "device_last_hour", "cell_rollup_last_hour",
                                      "map_last_15_min", "counts_last_hour"}
    assert result["query_p99_ms"] == max(q["p99_ms"] for q in result["queries"].values())


def test_bench_storage_through_kafka_runs_a_real_sink_and_stores_every_row_once() -> None:
    done = subprocess.run([sys.executable, "-m", "deploy.cli", "bench", "storage", "--through-kafka",
                           "--rows", "20000", "--json"], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == result["stored_rows"] == result["distinct_rows"] == 20_000
    assert result["sink_rows_per_s"] > 0 and result["batches"] >= 1
