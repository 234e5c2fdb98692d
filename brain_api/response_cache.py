"""A short-lived cache of shared read answers (alert queue, map layers), with single flight.

Why: a command centre is a wall of screens and a room of operators looking at the *same* views — the city
map at its default zoom, the open-alert queue — each polling every few seconds. Without this, N screens cost
N identical ClickHouse queries per refresh, and the embedded store runs one query at a time. With it, one
query serves every screen with the same scope for `ttl_s` (1 s by default, `CITYBRAIN_API_CACHE_TTL_S`;
0 turns it off; the map layers keep theirs `MAP_TTL_SCALE` times longer: their heat is a 15-minute window
and their alerts arrive on the live feed anyway), and concurrent misses on one key wait for the first
instead of all querying (single flight).

Freshness: what changes between refreshes reaches the page through the live feed anyway; an operator's own
action (ack, dispatch…) clears the cache, so no one reads a state older than their own click. Keys include
the caller's scope (role, department, cells), so one scope never sees another's answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from starlette.concurrency import run_in_threadpool

from brain_api.alerting.locks import KeyedLocks
from brain_api.security.roles import Principal


def scope_key(principal: Principal) -> Hashable:
    """What makes two callers see the same rows: role and scope, not who they are.

    >>> from brain_api.security.roles import Role
    >>> scope_key(Principal("a", Role.operator)) == scope_key(Principal("b", Role.operator))
    True
    """
    return principal.role.value, principal.department, tuple(sorted(principal.cells))


class ResponseCache:
    """`cache.get_or_compute(key, fn)` -> bytes, fresh for `ttl_s`; `clear()` after any write.

    >>> cache = ResponseCache(ttl_s=60)
    >>> calls = []
    >>> cache.get_or_compute("k", lambda: calls.append(1) or b"x"), cache.get_or_compute("k", lambda: b"y")
    (b'x', b'x')
    >>> cache.clear(); cache.get_or_compute("k", lambda: b"y")
    b'y'
    """

    def __init__(self, ttl_s: float = 1.0, max_entries: int = 1024) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: OrderedDict[Hashable, tuple[float, int, bytes]] = OrderedDict()
        self._guard = threading.Lock()
        self._flights = KeyedLocks()
        self._generation = 0
        self.hits = self.misses = 0

    def _fresh(self, key: Hashable, ttl_s: float) -> bytes | None:
        with self._guard:
            entry = self._entries.get(key)
            if entry is None or entry[1] != self._generation or time.monotonic() - entry[0] > ttl_s:
                return None
            self.hits += 1
            return entry[2]

    async def serve(self, key: Hashable, compute: Callable[[], bytes], *, scale: float = 1.0) -> bytes:
        """From an `async def` endpoint: a hit is answered on the event loop, a miss computes in the threadpool.

        Why: with sync endpoints every request, hit or not, needed a pool thread; when slow misses (a
        random alert's detail, a pan to a new street) backed up behind the store, they held every thread
        and the cheap hits queued behind them.
        """
        if self.ttl_s * scale > 0 and (body := self._fresh(key, self.ttl_s * scale)) is not None:
            return body
        return await run_in_threadpool(self.get_or_compute, key, compute, scale=scale)

    def get_or_compute(self, key: Hashable, compute: Callable[[], bytes], *, scale: float = 1.0) -> bytes:
        """`scale` stretches the TTL for views that move slowly (map heat over 15 minutes: `scale=5`)."""
        ttl_s = self.ttl_s * scale
        if ttl_s <= 0:
            return compute()
        if (body := self._fresh(key, ttl_s)) is not None:
            return body
        with self._flights.hold(repr(key)):
            if (body := self._fresh(key, ttl_s)) is not None:  # computed by the flight we waited for
                return body
            with self._guard:
                generation = self._generation
                self.misses += 1
            started = time.monotonic()
            body = compute()
            with self._guard:
                if generation == self._generation:  # a write meanwhile makes this answer unsafe to keep
                    self._entries[key] = (started, generation, body)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
            return body

    def clear(self) -> None:
        with self._guard:
            self._generation += 1
            self._entries.clear()
