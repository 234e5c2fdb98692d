"""Turning raw surprises into a probability-like anomaly score in [0, 1], per series.

A fixed z-threshold fits no real fleet: a bursty CPU gauge crosses z=10 daily, a thermometer never.
`RecordCalibrator` compares a surprise with the largest surprise the same series produced recently (a
slowly decaying peak): `score = 1 - exp(-GAIN * surprise / peak)`. Equal to the recent peak scores 0.89,
a new record by 6% scores 0.9 (the default alert threshold, and the NAB-optimal cut), twice the peak 0.99.
`combine` is the ensemble step across detectors: the score of the most confident one, as a probability
that at least one detector is right when they are read as independent.
"""

from __future__ import annotations

import math

import numpy as np

#: score(record ratio r) = 1 - exp(-GAIN * r); GAIN puts 0.9 at r = 1.058.
GAIN = math.log(10.0) / 1.058


class RecordCalibrator:
    """Per-series decaying peak of past surprises; state is one float per series.

    >>> cal = RecordCalibrator()
    >>> cal.ensure(1)
    >>> ids = np.array([0])
    >>> on = np.array([True])
    >>> for u in [1.0, 3.0, 2.0, 2.5]:
    ...     _ = cal.step(ids, np.array([u]), on)
    >>> round(float(cal.step(ids, np.array([3.0]), on)[0]), 2)   # as surprising as the recent peak
    0.89
    >>> round(float(cal.step(ids, np.array([30.0]), on)[0]), 2)  # ten times more
    1.0
    """

    anomalous = 1.0  # class defaults: snapshots pickled before these existed still load
    alert = 0.9

    def __init__(self, decay: float = 1e-3, gain: float = GAIN, floor: float = 0.0, anomalous: float = 1.0,
                 alert: float = 0.9) -> None:
        self.decay = decay
        self.anomalous = anomalous  # share of a surprise scoring >= `alert` that raises the peak
        self.alert = alert
        self.gain = gain
        self.floor = floor  # surprises are never judged against a peak below this
        self.peak = np.zeros(0)

    def ensure(self, capacity: int) -> None:
        if capacity > len(self.peak):
            self.peak = np.concatenate([self.peak, np.zeros(capacity - len(self.peak))])

    def reset(self, ids: np.ndarray) -> None:
        self.peak[ids] = 0.0

    def step(
        self, ids: np.ndarray, surprise: np.ndarray, active: np.ndarray, learning: np.ndarray | None = None
    ) -> np.ndarray:
        """Score `surprise` against each series' peak, then fold it in while `learning` (default: `active`).

        Scoring starts later than learning so the peak is known before anything is judged against it.
        """
        peak = self.peak[ids]
        ratio = surprise / np.maximum(peak, max(self.floor, 1e-12))
        score = np.where(active, -np.expm1(-self.gain * ratio), 0.0)
        learning = active if learning is None else learning
        decayed = peak * (1.0 - self.decay)
        # a surprise judged anomalous raises the bar only partly, so a second one of the same size still counts
        new = np.where(score >= self.alert, decayed + self.anomalous * np.maximum(surprise - decayed, 0.0), surprise)
        self.peak[ids] = np.where(learning, np.maximum(decayed, new), peak)
        return score


def combine(*scores: np.ndarray) -> np.ndarray:
    """Ensemble: the strongest detector's score, never below any single one.

    >>> combine(np.array([0.2, 0.95]), np.array([0.5, 0.1])).tolist()
    [0.5, 0.95]
    """
    return np.maximum.reduce(scores)
