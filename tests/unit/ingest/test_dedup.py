"""The ingest dedup memory: remembers the last window/2..window keys, in memory fixed when it is made."""

from __future__ import annotations

import tracemalloc

from ingest.dedup import RecentKeys


def test_remembers_at_least_half_a_window_and_forgets_beyond_a_window() -> None:
    seen = RecentKeys(window=1000)
    keys = [f"sim|e-{i}" for i in range(5000)]
    for k in range(0, 5000, 100):  # as requests arrive: a hundred keys at a time
        seen.add_many(keys[k : k + 100])
    assert all(key in seen for key in keys[-500:])
    assert not any(key in seen for key in keys[:-1000])
    assert 500 <= len(seen) <= 1000
    assert not any(f"other|{i}" in seen for i in range(10_000))


def test_filling_the_window_allocates_nothing_more() -> None:
    seen = RecentKeys(window=200_000)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for k in range(0, 300_000, 500):
            seen.add_many(f"sim|e-{i}" for i in range(k, k + 500))
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 64 * 1024, f"grew by {after - before} bytes while {len(seen)} keys were remembered"
    assert seen.nbytes == 2 * 262_144 * 8
