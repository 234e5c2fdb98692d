"""Recognise re-sent events: a bounded memory of recent `(source, id)` keys.

Two generations of 64-bit hashes: when the young generation holds half the window it becomes the old
one and the oldest generation is dropped. That remembers at least `window/2` and at most `window` keys
in O(1) per key with no per-entry bookkeeping (an LRU of a million strings costs ~200 MB; this ~60 MB).
Hash collisions among a million keys are ~1e-7 likely. Memory is per process: a restart forgets, which
is why the sink stays idempotent too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def _h(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


class RecentKeys:
    """Bounded set of recently seen keys.

    >>> seen = RecentKeys(window=4)
    >>> seen.add_many(["a", "b"]); "a" in seen, "z" in seen
    (True, False)
    >>> seen.add_many(["c", "d", "e", "f"]); "a" in seen
    False
    """

    def __init__(self, window: int) -> None:
        if window < 2:
            raise ValueError("window must be at least 2")
        self.window = window
        self._young: set[int] = set()
        self._old: set[int] = set()

    def __contains__(self, key: str) -> bool:
        h = _h(key)
        return h in self._young or h in self._old

    def __len__(self) -> int:
        return len(self._young | self._old)

    def add_many(self, keys: Iterable[str]) -> None:
        """Remember keys — call after they were published, so a failed publish can be retried."""
        half = self.window // 2
        for key in keys:
            self._young.add(_h(key))
            if len(self._young) >= half:
                self._old, self._young = self._young, set()
