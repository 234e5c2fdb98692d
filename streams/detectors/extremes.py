"""Two views of a series that a residual against its baseline cannot give: its range, and its bursts.

`RangeRecord` ("a new record high or low"): a value beyond everything this series has reported, by a
clear margin of that range and of its noise. A residual is judged against the series' *recent* surprises,
so a gauge that keeps spiking learns to shrug at spikes; a value outside the whole range it ever reported
is news whatever the spikes were, and it is what an operator reads at once ("highest level this sensor has
ever recorded"). On the NAB development corpus it found two windows the residual scores missed.

`Silence` ("its usual bursts stopped"): a series that used to produce large deviations (>= `z` sigma)
every so often has been quiet for far longer than its usual gap between bursts. A drainage pump whose
start-up surges stop, or a disk whose write bursts stop, while readings still arrive: the device reports
but no longer sees what it used to (a surge that comes every day at the same hour is the seasonal
baseline's, not a burst). Nothing in one value shows it, so no residual score can (on
NAB: the all-zero stretch of a bursty disk gauge, a day without a CPU's usual spikes).

Both keep three floats per series and score many series per call, like the other parts of `ResidualBank`.
"""

from __future__ import annotations

import math

import numpy as np

from streams.detectors.series import SeriesArrays

_LN10 = math.log(10.0)


class RangeRecord(SeriesArrays):
    """Score a value by how far it lies beyond the series' (slowly forgotten) range.

    `ratio` = distance past the range / max(`margin` x range width, `sigma` x spread); the score is
    `1 - 10**-ratio`, so 0.9 at exactly the margin and 0.99 at twice it; inside the range it is 0. The range
    shrinks towards `centre` (the series level) by `decay` per value at `pace` 1, so a bound set long ago
    fades (a summer's heat no longer mutes the winter's records).

    >>> rec = RangeRecord()
    >>> rec.ensure(1)
    >>> ids, on, rng = np.array([0]), np.array([True]), np.random.default_rng(3)
    >>> day = [float(rec.step(ids, np.array([v]), np.array([50.0]), np.array([1.0]), on)[0])
    ...        for v in 50 + 20 * np.sin(np.arange(500) / 20) + rng.normal(size=500)]
    >>> max(day[100:]) < 0.9                       # the range itself is normal
    True
    >>> round(float(rec.step(ids, np.array([77.0]), np.array([50.0]), np.array([1.0]), on)[0]), 2)
    0.95
    """

    def __init__(self, margin: float = 0.1, sigma: float = 1.5, decay: float = 1e-5) -> None:
        self.margin = margin
        self.sigma = sigma
        self.decay = decay
        super().__init__("lo", "hi", "seen")

    def step(self, ids: np.ndarray, x: np.ndarray, centre: np.ndarray, spread: np.ndarray, active: np.ndarray,
             pace: np.ndarray | float = 1.0) -> np.ndarray:
        """Score `x` against the range so far, then widen the range to hold it."""
        s = self._state
        lo, hi, seen = s["lo"][ids], s["hi"][ids], s["seen"][ids] > 0
        past = np.maximum(x - hi, lo - x)
        ratio = np.maximum(past, 0.0) / np.maximum(self.margin * (hi - lo), self.sigma * spread + 1e-12)
        score = np.where(active & seen, -np.expm1(-_LN10 * ratio), 0.0)
        keep = (1.0 - self.decay) ** pace
        s["hi"][ids] = np.where(seen, np.maximum(centre + (hi - centre) * keep, x), x)
        s["lo"][ids] = np.where(seen, np.minimum(centre + (lo - centre) * keep, x), x)
        s["seen"][ids] = 1.0
        return score


class Silence(SeriesArrays):
    """Score how improbable the current quiet stretch is, given this series' usual gap between bursts.

    A *burst* is a value with |z| >= `z` that follows at least `gap` quiet values. The mean length of the
    last ~1/`alpha` quiet stretches that ended in a burst is the usual gap `m`; a stretch of `r` values
    without any |z| >= `z` then has probability about exp(-r / m) (bursts as a Poisson process), and the
    score is its -log10 over `decades` (0.9 at 3.15 decades with the default 3.5: about seven usual gaps).
    Nothing is scored before `min_bursts` bursts were seen, so a calm series is never "silent".
    Stretches are counted in time (`pace`, in nominal values), so the bursts of one episode minutes apart on a
    fast-reporting camera are one burst, not a "usual gap" of minutes that the calm after them would break.

    >>> sil = Silence()
    >>> sil.ensure(1)
    >>> ids, on = np.array([0]), np.array([True])
    >>> bursty = [float(sil.step(ids, np.array([8.0 if k % 40 == 0 else 0.5]), on, on)[0]) for k in range(400)]
    >>> max(bursty) < 0.5                           # a burst every 40 values, as usual
    True
    >>> quiet = [float(sil.step(ids, np.array([0.5]), on, on)[0]) for _ in range(400)]
    >>> quiet.index(next(q for q in quiet if q >= 0.9)) > 200, quiet[-1] == 1.0
    (True, True)
    """

    def __init__(self, z: float = 5.0, gap: int = 12, alpha: float = 0.1, decades: float = 3.5,
                 min_bursts: int = 5) -> None:
        self.z = z
        self.gap = gap
        self.alpha = alpha
        self.decades = decades
        self.min_bursts = min_bursts
        super().__init__("run", "mean", "bursts")

    def step(self, ids: np.ndarray, z: np.ndarray, active: np.ndarray, learning: np.ndarray,
             pace: np.ndarray | float = 1.0) -> np.ndarray:
        """Fold |z| of one value per series into its quiet stretch; score the stretch so far.

        `pace` is how many nominal values this one counts for (its reporting interval over the nominal one),
        so stretches are counted in time.
        """
        s = self._state
        run, mean, bursts = s["run"][ids], s["mean"][ids], s["bursts"][ids]
        hit = (z >= self.z) & learning
        burst = hit & (run >= self.gap)
        bursts = np.where(burst, bursts + 1.0, bursts)
        a = np.maximum(self.alpha, 1.0 / np.maximum(bursts, 1.0))
        mean = np.where(burst, mean + a * (run - mean), mean)
        run = np.where(hit, 0.0, np.where(learning, run + pace, run))
        decades = run / (np.maximum(mean, 1.0) * _LN10)
        score = np.where(active & (bursts >= self.min_bursts), np.minimum(decades / self.decades, 1.0), 0.0)
        s["run"][ids], s["mean"][ids], s["bursts"][ids] = run, mean, bursts
        return score
