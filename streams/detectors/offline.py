"""`OfflineBank`: a device is offline when it misses several of its expected reports.

The expected interval is learned per device (EWMA of the gaps between its messages, any type counts)
unless configured; silence of `misses` intervals scores 0.9, the default alert threshold. Silence shorter
than `min_silence_s` never scores: a detector that reports every second and pauses for five during a
network hiccup or a worker restart is not a failed sensor, and an operator should not be asked to look.
State: three floats per device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

MIN_SILENCE_S = 60.0


class OfflineBank:
    """Per-device last-seen time and expected reporting interval, in arrays indexed by device slot.

    >>> bank = OfflineBank()
    >>> bank.ensure(1)
    >>> for k in range(20):
    ...     bank.seen(np.array([0]), np.array([60.0 * k]))
    >>> float(bank.score(np.array([0]), 19 * 60.0 + 90)[0]) < 0.5      # half an interval late: fine
    True
    >>> float(bank.score(np.array([0]), 19 * 60.0 + 5 * 60)[0]) > 0.9   # five intervals of silence
    True
    """

    #: Class default, so snapshots pickled before the floor existed restore with it.
    min_silence_s = MIN_SILENCE_S

    def __init__(self, misses: float = 3.0, alpha: float = 0.05, min_reports: int = 5,
                 min_silence_s: float = MIN_SILENCE_S) -> None:
        self.misses = misses
        self.min_silence_s = min_silence_s
        self.alpha = alpha
        self.min_reports = min_reports
        self.last = np.zeros(0)
        self.interval = np.zeros(0)
        self.n = np.zeros(0)

    def ensure(self, capacity: int) -> None:
        if capacity > len(self.last):
            grow = max(capacity, 2 * len(self.last), 64) - len(self.last)
            self.last, self.interval, self.n = (np.concatenate([a, np.zeros(grow)]) for a in
                                                (self.last, self.interval, self.n))

    def reset(self, ids: np.ndarray) -> None:
        self.last[ids] = self.interval[ids] = self.n[ids] = 0.0

    def seen(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Learn one message per (distinct) device id at epoch seconds `t`."""
        gap = t - self.last[ids]
        first = self.n[ids] == 0
        a = np.maximum(self.alpha, 1.0 / np.maximum(self.n[ids], 1.0))
        ok = ~first & (gap > 0)
        self.interval[ids] = np.where(ok, self.interval[ids] + a * (gap - self.interval[ids]), self.interval[ids])
        self.last[ids] = np.maximum(self.last[ids], t)
        self.n[ids] += 1.0

    def score(self, ids: np.ndarray, now: float) -> np.ndarray:
        """0 while on time; 0.9 after `misses` intervals of silence; more the longer it lasts."""
        silence = now - self.last[ids]
        overdue = silence / np.maximum(self.interval[ids], 1e-9) - 1.0
        score = -np.expm1(-math.log(10.0) * np.maximum(overdue, 0.0) / max(self.misses - 1.0, 1e-9))
        return np.where((self.n[ids] >= self.min_reports) & (silence >= self.min_silence_s), score, 0.0)

    def learn_one(self, x: Mapping[str, float]) -> None:
        """River-shaped use for one device (slot 0): `x = {"t": seconds}`."""
        self.ensure(1)
        self.seen(np.array([0]), np.array([float(x["t"])]))

    def score_one(self, x: Mapping[str, float]) -> float:
        self.ensure(1)
        return float(self.score(np.array([0]), float(x["t"]))[0])
