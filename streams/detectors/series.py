"""`SeriesIndex`: stable integer slots for series keys, with least-recently-seen eviction.

Detector state lives in arrays indexed by slot; this maps `(device_id, metric)` (or a device id) to its
slot. When `max_series` slots are taken, the least recently seen tenth is evicted in one go, so a
partition's memory stays bounded however many devices come and go.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np


class SeriesIndex:
    """Key -> slot map; `lookup` returns slots for a batch and the slots it had to evict.

    >>> idx = SeriesIndex(max_series=10)
    >>> idx.lookup(["a", "b", "a"])[0].tolist()
    [0, 1, 0]
    >>> ids, evicted = idx.lookup([f"k{i}" for i in range(9)])
    >>> evicted.tolist(), idx.get("a"), len(idx)
    ([0], None, 10)
    """

    def __init__(self, max_series: int) -> None:
        self.max_series = max_series
        self.slots: dict[Hashable, int] = {}
        self.keys: list[Hashable | None] = []
        self.free: list[int] = []
        self.last_used = np.zeros(0, dtype=np.int64)
        self.tick = 0
        self.fresh = np.zeros(0, dtype=np.int64)  # slots assigned by the last lookup

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def capacity(self) -> int:
        return len(self.keys)

    def get(self, key: Hashable) -> int | None:
        return self.slots.get(key)

    def lookup(self, keys: Sequence[Hashable]) -> tuple[np.ndarray, np.ndarray]:
        self.tick += 1
        slots, get = self.slots, self.slots.get
        found = [get(k, -1) for k in keys]  # the common case, at C speed
        out = np.array(found, dtype=np.int64)
        fresh: list[int] = []
        evicted: list[int] = []
        for i in np.flatnonzero(out < 0).tolist():
            key = keys[i]
            s = get(key)
            if s is None:
                if not self.free and len(slots) >= self.max_series:
                    evicted.extend(self._evict(protect=out[:i]))
                s = self.free.pop() if self.free else self._grow()
                slots[key] = s
                self.keys[s] = key
                fresh.append(s)
            out[i] = s
        self.last_used[out] = self.tick
        self.fresh = np.array(fresh, dtype=np.int64)
        return out, np.array(evicted, dtype=np.int64)

    def _grow(self) -> int:
        self.keys.append(None)
        if len(self.last_used) < len(self.keys):
            self.last_used = np.concatenate([self.last_used, np.zeros(max(64, len(self.last_used)), np.int64)])
        return len(self.keys) - 1

    def _evict(self, protect: np.ndarray) -> list[int]:
        used = self.last_used[: len(self.keys)].copy()
        used[protect] = np.iinfo(np.int64).max  # never evict a series of the batch being looked up
        victims = np.argsort(used, kind="stable")[: max(1, self.max_series // 10)].tolist()
        for s in victims:
            del self.slots[self.keys[s]]
            self.keys[s] = None
        self.free.extend(reversed(victims))
        return victims


class SeriesArrays:
    """Per-series state as named float arrays indexed by slot: grown by `ensure`, zeroed by `reset`.

    The base of the bank's parts that keep a few floats per series (likelihood, range record, silence).

    >>> part = SeriesArrays("peak", "count")
    >>> part.ensure(3); part._state["peak"][1] = 5.0; part.reset(np.array([1]))
    >>> part._state["peak"].tolist(), len(part._state["count"])
    ([0.0, 0.0, 0.0], 3)
    """

    def __init__(self, *names: str) -> None:
        self._state = {k: np.zeros(0) for k in names}

    def ensure(self, capacity: int) -> None:
        for k, v in self._state.items():
            if capacity > len(v):
                self._state[k] = np.concatenate([v, np.zeros(capacity - len(v))])

    def reset(self, ids: np.ndarray) -> None:
        for v in self._state.values():
            v[ids] = 0.0
