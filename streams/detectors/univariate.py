"""River-shaped single-series detectors over `ResidualBank`: `learn_one(x)` / `score_one(x)`.

`x` is `{"value": float, "t": seconds}` (local time, so time-of-day slots mean the city's hours).
These wrappers exist for clarity, notebooks and tests; the worker drives the bank itself, many series
per call (`streams.detection`). Constructor arguments are stored unchanged, so `clone`/pickle work.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from streams.detectors.bank import BankParams, ResidualBank

_ONE = np.array([0])


class _BankDetector:
    _params: BankParams

    def __init__(self, threshold: float = 0.9) -> None:
        self.threshold = threshold
        self._bank = ResidualBank(self._params, capacity=1)

    def _step(self, bank: ResidualBank, x: Mapping[str, float]) -> tuple[float, float]:
        score, expected = bank.step(_ONE, np.array([float(x["value"])]), np.array([float(x["t"])]), self.threshold)
        return float(score[0]), float(expected[0])

    def score_one(self, x: Mapping[str, float]) -> float:
        """Calibrated anomaly score in [0, 1]; does not change the state."""
        return self._step(copy.deepcopy(self._bank), x)[0]

    def learn_one(self, x: Mapping[str, float]) -> None:
        """Learn `x` (down-weighted when it scores above `threshold`: anomalies don't become normal)."""
        self._step(self._bank, x)


class SeasonalBaseline(_BankDetector):
    """Time-of-day (and optionally weekday/weekend) baseline; the level model covers unseen slots.

    >>> det, rng = SeasonalBaseline(), np.random.default_rng(1)
    >>> day = lambda k: 50 + 30 * np.sin(2 * np.pi * (k % 288) / 288)   # 5-minute readings, daily cycle
    >>> scores = []
    >>> for k in range(288 * 5):
    ...     x = {"value": day(k) + rng.normal(), "t": 300.0 * k}
    ...     scores.append(det.score_one(x)); det.learn_one(x)
    >>> max(scores[288 * 2:]) < 0.9                      # the daily swing itself is no anomaly
    True
    >>> det.score_one({"value": day(288 * 5) + 40, "t": 300.0 * 288 * 5}) > 0.99
    True
    """

    def __init__(self, season_slots: int = 48, weekend_split: bool = False, threshold: float = 0.9) -> None:
        self.season_slots = season_slots
        self.weekend_split = weekend_split
        self._params = BankParams(season_slots=season_slots, weekend_split=weekend_split)
        super().__init__(threshold)


class PredictiveResidual(_BankDetector):
    """Residual of a robust EWMA level (and of the last step), no seasonality.

    >>> det, rng = PredictiveResidual(), np.random.default_rng(2)
    >>> scores = []
    >>> for k in range(500):
    ...     x = {"value": 10 + rng.normal(), "t": 60.0 * k}
    ...     scores.append(det.score_one(x)); det.learn_one(x)
    >>> max(scores[200:]) < 0.9
    True
    >>> det.score_one({"value": 80.0, "t": 60.0 * 500}) > 0.99
    True
    """

    def __init__(self, level_alpha: float = 0.01, threshold: float = 0.9) -> None:
        self.level_alpha = level_alpha
        self._params = BankParams(level_alpha=level_alpha, seasonal=False)
        super().__init__(threshold)


class Flatline(_BankDetector):
    """Stuck sensor: a run of identical values longer than any this series showed recently.

    >>> det, rng = Flatline(), np.random.default_rng(3)
    >>> scores = []
    >>> for k in range(400):
    ...     x = {"value": round(20 + rng.normal(), 1), "t": 60.0 * k}
    ...     scores.append(det.score_one(x)); det.learn_one(x)
    >>> max(scores[200:]) < 0.9                         # short repeats of a rounded value are normal
    True
    >>> for k in range(400, 430):
    ...     stuck = det.score_one({"value": 20.0, "t": 60.0 * k}); det.learn_one({"value": 20.0, "t": 60.0 * k})
    >>> stuck > 0.99
    True
    """

    def __init__(self, tolerance: float = 0.0, threshold: float = 0.9) -> None:
        self.tolerance = tolerance
        self._params = BankParams(residual=False, seasonal=False, flatline=True, flatline_tolerance=tolerance)
        super().__init__(threshold)
