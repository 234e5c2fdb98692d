"""A small token bucket per (caller, endpoint group), so one client cannot monopolise expensive queries.

In-process on purpose: each API replica limits its own share, which is what protects its ClickHouse
connection pool; a city-wide quota would need a shared store and is not what this guards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens per second up to `burst`; `take()` is False when the caller must wait.

    >>> clock = iter([0.0, 0.0, 0.0, 0.0, 1.0]).__next__
    >>> b = TokenBucket(rate=1.0, burst=2, clock=clock)
    >>> [b.take(), b.take(), b.take(), b.take()]
    [True, True, False, True]
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def retry_after(self) -> float:
        """Seconds until one token is available again."""
        return max(0.0, (1.0 - self.tokens) / self.rate) if self.rate > 0 else 60.0


class RateLimiter:
    """Buckets by key, bounded: idle buckets are dropped once there are more than `max_keys`."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float | None:
        """None when allowed, else the seconds to wait (for a `Retry-After` header)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._evict_full()
                bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
            return None if bucket.take() else bucket.retry_after()

    def _evict_full(self) -> None:
        # A bucket that has refilled completely carries no state worth keeping.
        now = time.monotonic()
        for key in [k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
