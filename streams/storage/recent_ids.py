"""Event ids the sink stored (or is about to store) recently: a copy that reached Kafka twice is stored once.

Why here and not only at ingest: ingest's duplicate memory dies with its process. A request published to
Kafka whose API was killed before it answered is re-sent by the client to a fresh API, which publishes it
again, at new offsets — the offset-based replay protection (`progress.py`) cannot see that. The sink sees
both copies, in order, on the same partition (events are keyed by device) and a retry's distance apart, so a
bounded memory of recent `(source, id)` pairs here closes the window; on (re)assignment it is refilled from
ClickHouse (`progress.recent_ids`), so a sink restart does not reopen it.

Bounds: ids of the last `window_s` seconds, at most `max_ids` (oldest generations go first). Memory is
about 100 bytes per id (the id strings are the decoded ones, kept alive); 300k ids is ~30 MB. A copy that
arrives later than the window (or after `max_ids` newer ids) is stored twice: the bound is documented in
docs/guarantees.md. Exact: ids are compared as strings, never as hashes, so no genuine event is dropped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

from streams.storage.rows import Decoded

#: generations per window: eviction drops whole generations, so memory overshoots the window by 1/GENS.
GENS = 4


class RecentIds:
    """Bounded, exact memory of recently stored `(source, id)`.

    One dict answers "seen?" (one probe per id: with a dict per generation the sink paid a cache miss in
    each, ~1 µs an event at 300k ids); the generations only list ids in the order they came, for eviction.
    An id is forgotten with the generation that first remembered it.

    >>> clock = iter([0, 0, 0, 100, 400]).__next__
    >>> seen = RecentIds(window_s=120, max_ids=1000, clock=clock)
    >>> seen.repeats(["a", "b", "a"], ["s", "s", "s"])   # the second "a" repeats the first
    [2]
    >>> seen.repeats(["b", "c"], ["s", "s"]), seen.repeats(["b"], ["other-source"])
    ([0], [])
    >>> seen.repeats(["c"], ["s"])   # 100 s later: still remembered
    [0]
    >>> seen.repeats(["a"], ["s"])   # 400 s later: forgotten, stored again (the documented bound)
    []
    """

    def __init__(self, window_s: float, max_ids: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s, self.max_ids, self._clock = window_s, max_ids, clock
        self._seen: dict[str, str | frozenset[str]] = {}  # id -> its source (sources, if ids collide)
        self._gens: deque[tuple[float, list[str]]] = deque()  # (opened at, ids first remembered), oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def _current(self) -> list[str]:
        now = self._clock()
        if not self._gens or now - self._gens[-1][0] >= self.window_s / GENS or len(self._gens[-1][1]) >= (
                self.max_ids // GENS or 1):
            self._gens.append((now, []))
        # a generation is all older than the window once the next one opened before the window began
        while len(self._gens) > 1 and (self._gens[1][0] < now - self.window_s or len(self._seen) > self.max_ids):
            deque(map(self._seen.pop, self._gens.popleft()[1], repeat(None)), maxlen=0)  # a loop in C
        return self._gens[-1][1]

    def _has(self, event_id: str, source: str) -> bool:
        known = self._seen.get(event_id)
        return known == source or (isinstance(known, frozenset) and source in known)

    def _add(self, event_id: str, source: str, gen: list[str]) -> None:
        known = self._seen.get(event_id)
        if known is None:
            self._seen[event_id] = source
            gen.append(event_id)
        elif not self._has(event_id, source):  # the same id from another source is another event
            self._seen[event_id] = (known if isinstance(known, frozenset) else frozenset((known,))) | {source}

    def repeats(self, ids: list[str], sources: list[str]) -> list[int]:
        """Indices of the events that repeat one remembered (or earlier in `ids`); remembers the others."""
        gen = self._current()
        unique = set(ids)
        if len(unique) == len(ids) and self._seen.keys().isdisjoint(unique):
            # the common case, all in C (~0.2 µs an event); a message usually comes from one source
            one = sources[0] if sources and sources.count(sources[0]) == len(sources) else None
            self._seen.update(dict.fromkeys(ids, one) if one is not None else dict(zip(ids, sources, strict=True)))
            gen.extend(ids)
            return []
        out: list[int] = []
        for i, (event_id, source) in enumerate(zip(ids, sources, strict=True)):
            if self._has(event_id, source):
                out.append(i)
            else:
                self._add(event_id, source, gen)
        return out

    def remember(self, ids: Iterable[str], sources: Iterable[str]) -> None:
        """Refill from ClickHouse after (re)assignment (ids already stored)."""
        gen = self._current()
        for event_id, source in zip(ids, sources, strict=True):
            self._add(event_id, source, gen)

    def forget(self, ids: Iterable[str]) -> None:
        """Ids of pending rows the sink gave up (partition revoked): the next owner stores them, and if this
        sink gets the partition back it must not take them for repeats."""
        for event_id in ids:
            self._seen.pop(event_id, None)


def drop_repeats(decoded: Decoded, recent: RecentIds) -> int:
    """Remove from one decoded events message the events `recent` has seen; returns how many were removed."""
    if decoded.columns is not None:
        cols = decoded.columns
        dup = recent.repeats(cols["id"], cols["source"])
        if dup:
            decoded.columns = _without(cols, set(dup), decoded.column_rows)
            decoded.column_rows -= len(dup)
        return len(dup)
    dup = recent.repeats([r["id"] for r in decoded.rows], [r["source"] for r in decoded.rows])
    if dup:
        gone = set(dup)
        decoded.rows = [r for i, r in enumerate(decoded.rows) if i not in gone]
    return len(dup)


def _without(cols: dict[str, Any], gone: set[int], n: int) -> dict[str, Any]:
    keep = [i for i in range(n) if i not in gone]
    return {name: (col[keep] if hasattr(col, "shape") else [col[i] for i in keep]) for name, col in cols.items()}
