"""`citybrain bench broker` on a small scale: it starts its own embedded brokers and reports both figures.

The figures themselves are benchmarks (BENCHMARKS.md); this checks the command works and that what it
reports is the shape the docs rely on: a fetch-time reading per step, and lz4 holding fewer bytes."""

from __future__ import annotations

import pytest

from benchmarks.broker import bytes_per_event, fetch_cost

pytestmark = pytest.mark.integration


def test_fetch_cost_reads_the_tail_after_every_step() -> None:
    result = fetch_cost(batches=300, step=100)
    assert list(result["tail_fetch_ms_by_stored_batches"]) == [100, 200, 300]
    assert all(ms > 0 for ms in result["tail_fetch_ms_by_stored_batches"].values())
    assert isinstance(result["fetch_us_per_stored_batch"], float)


def test_lz4_batches_hold_far_fewer_bytes_per_event() -> None:
    plain, lz4 = bytes_per_event(200_000, "none"), bytes_per_event(200_000, "lz4")
    assert plain > 100, f"{plain:.0f} B per uncompressed event: packed readings are ~270 B of JSON"
    assert lz4 < plain / 3, f"lz4 {lz4:.0f} B vs plain {plain:.0f} B per event"
