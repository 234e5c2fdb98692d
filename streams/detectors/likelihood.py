"""Anomaly likelihood (Numenta, Ahmad et al. 2017) with bounded memory, and re-alert suppression.

A raw surprise says how odd one value is; it does not say whether this series is *usually* that odd. The
likelihood keeps, per series, a short-term mean of the raw scores (the last ~`1/short_alpha` values) and the
long-term mean and variance of that short-term mean, and reports how far in the Gaussian tail the current
short-term mean lies: sustained or unusual surprise scores high, the routine jitter of a bursty series does
not. Numenta keeps a window of 8,640 raw scores per series; exponentially weighted moments give the same
answer in five floats per series, which is what lets a worker hold 200,000 series.

The tail probability `q` becomes a score in [0, 1] on a log scale, `-log10(q) / decades` (Numenta's
log-likelihood), so 0.9 means "a one in 10**(0.9 * decades) event for this series". Fed with the *signed*
residual and read two-sided, the same estimator is a mean-shift (drift) test: the recent mean residual
against its own history, which absorbs the autocorrelation a plain CUSUM on real series would mistake for
a shift.

`Suppressor` is the de-duplicating half of calibration: after a series crosses its threshold it stays
quiet for `hold` values, so an anomaly episode yields one alert (NAB also credits only the first detection
in a window and charges the later ones outside it as false positives). With `rearm` the hold also lasts
until the incoming score has dropped below `rearm` x threshold: an episode that outlasts the hold (the
likelihood stays saturated while a burst drains out of its short-term mean) is still one episode, and the
next alert needs the series to have calmed down first (hysteresis).
"""

from __future__ import annotations

import math

import numpy as np

from streams.detectors.series import SeriesArrays

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LN10 = math.log(10.0)


def neg_log10_tail(z: np.ndarray) -> np.ndarray:
    """-log10 P(Z > z) for a standard normal Z (Borjesson-Sundberg bound, within 1% for z >= 0).

    >>> [round(float(v), 2) for v in neg_log10_tail(np.array([0.0, 1.0, 3.0, 5.0]))]
    [0.3, 0.8, 2.87, 6.54]
    """
    zc = np.maximum(z, 0.0)
    tail = (0.661 * zc + 0.339 * np.sqrt(zc * zc + 5.51)) * _SQRT_2PI
    value = (0.5 * zc * zc + np.log(tail)) / _LN10
    # below the mean the tail is at least one half
    return np.where(z > 0.0, value, math.log10(2.0))


class AnomalyLikelihood(SeriesArrays):
    """Per-series likelihood of the recent raw scores; state is four floats per series.

    >>> lik = AnomalyLikelihood()
    >>> lik.ensure(1)
    >>> ids, on, rng = np.array([0]), np.array([True]), np.random.default_rng(5)
    >>> calm = [float(lik.step(ids, np.abs(rng.normal(size=1)), on)[0]) for _ in range(2000)]
    >>> max(calm[500:]) < 0.9                       # the series' own jitter
    True
    >>> burst = [float(lik.step(ids, np.array([4.0]), on)[0]) for _ in range(5)]
    >>> burst[-1] > 0.9                             # five surprising values in a row
    True

    Two-sided on signed residuals (the bank's drift score): noise stays quiet, a lasting move of one sigma
    *down* is found, which no single value of it would reveal.

    >>> drift = AnomalyLikelihood(0.01, 1e-3, 4.0, 0.1, two_sided=True)
    >>> drift.ensure(1)
    >>> calm = [float(drift.step(ids, rng.normal(size=1), on)[0]) for _ in range(3000)]
    >>> max(calm[500:]) < 0.9
    True
    >>> moved = [float(drift.step(ids, rng.normal(size=1) - 1.0, on)[0]) for _ in range(200)]
    >>> max(moved) > 0.9
    True
    """

    two_sided = False  # class default: snapshots pickled before it existed still load

    def __init__(self, short_alpha: float = 0.2, long_alpha: float = 1e-3, decades: float = 6.0,
                 min_std: float = 0.1, two_sided: bool = False) -> None:
        self.short_alpha = short_alpha
        self.long_alpha = long_alpha
        self.decades = decades
        self.min_std = min_std
        self.two_sided = two_sided  # a short-term mean far *below* its history is as telling (signed inputs)
        super().__init__("short", "mean", "var", "n")

    def step(self, ids: np.ndarray, raw: np.ndarray, active: np.ndarray, learning: np.ndarray | None = None,
             pace: np.ndarray | float = 1.0) -> np.ndarray:
        """Fold `raw` into the short-term mean, score it against the long-term moments, then learn them.

        `pace` scales both memories per series (alpha x pace, at most 1): a memory counted in time, not in values.
        """
        s = self._state
        n, mean, var = s["n"][ids], s["mean"][ids], s["var"][ids]
        a_short = np.maximum(np.minimum(self.short_alpha * pace, 1.0), 1.0 / (n + 1.0))
        short = s["short"][ids] + a_short * (raw - s["short"][ids])
        z = (short - mean) / np.sqrt(var + self.min_std**2)
        z = np.abs(z) if self.two_sided else z
        score = np.where(active & (n > 0), np.minimum(neg_log10_tail(z) / self.decades, 1.0), 0.0)
        learning = active if learning is None else learning
        a = np.maximum(np.minimum(self.long_alpha * pace, 1.0), 1.0 / (n + 1.0))
        d = short - mean
        s["short"][ids] = short
        s["mean"][ids] = np.where(learning, mean + a * d, mean)
        s["var"][ids] = np.where(learning, (1.0 - a) * (var + a * d * d), var)
        s["n"][ids] = np.where(learning, n + 1.0, n)
        return score


class Suppressor:
    """After a score reaches the threshold, the series' next `hold` scores are scaled by `factor`.

    >>> sup = Suppressor(hold=3)
    >>> sup.ensure(1)
    >>> [float(sup.step(np.array([0]), np.array([s]), 0.9)[0]) for s in (0.95, 0.97, 0.5, 0.99, 0.99)]
    [0.95, 0.485, 0.25, 0.495, 0.99]

    With `rearm`, a hold ends only once the incoming score has been below `rearm` x threshold: a score that
    stays high is the same episode and does not alert again when the `hold` values are over.

    >>> sup = Suppressor(hold=2, rearm=0.9)
    >>> sup.ensure(1)
    >>> [float(sup.step(np.array([0]), np.array([s]), 0.9)[0]) for s in (0.95, 0.97, 0.99, 0.95, 0.5, 0.95)]
    [0.95, 0.485, 0.495, 0.475, 0.25, 0.95]
    """

    rearm = 0.0  # class default: snapshots pickled before it existed still load (and behave as they did)

    def __init__(self, hold: int = 100, factor: float = 0.5, rearm: float = 0.0) -> None:
        self.hold = hold
        self.factor = factor
        self.rearm = rearm  # 0: the hold is exactly `hold` values
        self.left = np.zeros(0)

    def ensure(self, capacity: int) -> None:
        if capacity > len(self.left):
            self.left = np.concatenate([self.left, np.zeros(capacity - len(self.left))])

    def reset(self, ids: np.ndarray) -> None:
        self.left[ids] = 0.0

    def step(self, ids: np.ndarray, score: np.ndarray, threshold: np.ndarray | float) -> np.ndarray:
        left = self.left[ids]
        quiet = left > 0
        out = np.where(quiet, score * self.factor, score)
        fired = ~quiet & (score >= threshold)
        left = np.maximum(left - 1.0, 0.0)
        if self.rearm:  # still high when the hold runs out: the same episode, hold one more value
            left = np.where(quiet & (score >= self.rearm * threshold), np.maximum(left, 1.0), left)
        self.left[ids] = np.where(fired, float(self.hold), left)
        return out
