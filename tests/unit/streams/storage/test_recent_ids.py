"""The sink's duplicate memory: exact, bounded, and it forgets what the sink gave up."""

from __future__ import annotations

import numpy as np

from streams.storage.recent_ids import RecentIds, drop_repeats
from streams.storage.rows import Decoded


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_columns_and_rows_lose_exactly_the_repeated_events() -> None:
    seen = RecentIds(window_s=120, max_ids=1000)
    first = Decoded(columns={"id": ["a", "b"], "source": ["s", "s"], "time": np.array([1, 2])}, column_rows=2)
    assert drop_repeats(first, seen) == 0 and first.count == 2
    again = Decoded(columns={"id": ["c", "a", "d"], "source": ["s", "s", "s"], "time": np.array([3, 1, 4])},
                    column_rows=3)
    assert drop_repeats(again, seen) == 1
    assert again.count == 2 and again.columns["id"] == ["c", "d"] and again.columns["time"].tolist() == [3, 4]
    rows = Decoded(rows=[{"id": "d", "source": "s"}, {"id": "e", "source": "s"}, {"id": "e", "source": "s"}])
    assert drop_repeats(rows, seen) == 2 and [r["id"] for r in rows.rows] == ["e"]


def test_memory_is_bounded_by_count_and_by_time() -> None:
    clock = Clock()
    seen = RecentIds(window_s=100, max_ids=400, clock=clock)
    for i in range(10):
        seen.repeats([f"{i}-{k}" for k in range(100)], ["s"] * 100)
    assert len(seen) <= 400 + 100  # at most one generation over the bound
    assert seen.repeats(["9-0"], ["s"]) == [0] and seen.repeats(["0-0"], ["s"]) == []
    clock.now = 1000
    seen.repeats(["late"], ["s"])
    assert len(seen) <= 2 and seen.repeats(["9-1"], ["s"]) == []


def test_forgotten_ids_are_stored_again_and_refilled_ones_are_not() -> None:
    seen = RecentIds(window_s=120, max_ids=1000)
    seen.repeats(["a", "b"], ["s", "s"])
    seen.forget(["a"])  # the partition was revoked before "a" was stored
    assert seen.repeats(["a", "b"], ["s", "s"]) == [1]
    seen.remember(["x"], ["s"])  # refilled from ClickHouse after a restart
    assert seen.repeats(["x", "y"], ["s", "s"]) == [0]
