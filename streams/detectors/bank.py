"""`ResidualBank`: the univariate detectors of many series at once, state in numpy arrays indexed by slot.

One step scores a batch of *distinct* series with a few dozen array operations, which is what lets one
core score hundreds of thousands of readings per second (issue 9) instead of one Python call per event.
Per series it keeps (bounded: `26 + 3 * season_slots` numbers, float64/float32):

* a predictive residual: robust EWMA level and variance, optionally the variance of first differences
  (`diff_weight`) and a fast-vs-slow level shift (`shift_weight`) — both off by default: on NAB they cost
  points once the level itself is learned correctly (BENCHMARKS.md);
* a seasonal baseline: EWMA mean/variance per time-of-day slot, optionally split weekday/weekend, used as
  the prediction once the slot has seen `season_warmup` values (drift is followed because slots are EWMAs)
  and only while the slots have recently predicted better than the level (`season_select`: a CPU gauge
  without a daily rhythm is judged against its level, not against 48 noisy slot means). A slot's EWMA
  remembers ~10 values: for a series reporting more often than that per visit (`season_visit_values`), the
  slot holds the end of yesterday's visit, so a new visit starts from the slot just left instead;
* flatline: the run length of unchanged values against the longest run seen recently, for values
  strictly inside the range the series has reported (a stuck sensor reads plausibly; a pinned extreme is
  saturation).

Calibration (`streams.detectors.calibration`, `streams.detectors.likelihood`) is an ensemble of two views
of the same surprise: the *record* score (more surprising than anything this series did recently, which
makes one threshold fit a CPU gauge and a taxi count) and the *anomaly likelihood* (the recent mean
surprise is far in the tail of this series' own history: sustained oddity), plus a *drift* score (the same
estimator on the signed residual, two-sided, memories counted in time: a typical value that moved by about
one sigma for hours, which neither of the others sees), plus a *range record* (a value beyond the whole range
the series ever reported, `streams.detectors.extremes`). A *silence* score (a bursty series whose bursts
stopped) comes last, with its own hold. After an alert the residual
score is held down for `suppress_hold` values, and for as long as it stays near the threshold
(`suppress_rearm`), so one episode raises one alert. Score first, then learn;
values judged anomalous are learned with a small weight, so a spike does not poison the baseline but a
lasting level shift is absorbed. `residual` keeps the last step's signed standardised residuals for the
multivariate detector.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from streams.detectors.calibration import RecordCalibrator, combine
from streams.detectors.extremes import RangeRecord, Silence
from streams.detectors.likelihood import AnomalyLikelihood, Suppressor
from streams.detectors.params import BankParams

__all__ = ["BankParams", "ResidualBank"]

DAY_S = 86_400.0
GAP_ALPHA = 0.05  # memory (in values) of a series' mean reporting interval
WEEK_EPOCH_SHIFT_S = 3 * DAY_S  # 1970-01-01 was a Thursday: shift so day 0 is a Monday


class ResidualBank:
    """Predictive-residual + seasonal + flatline scoring for series `0..capacity-1` (grows on demand).

    >>> bank = ResidualBank()
    >>> rng = np.random.default_rng(7)
    >>> ids = np.array([0])
    >>> quiet = [bank.step(ids, np.array([10 + rng.normal()]), np.array([60.0 * k]))[0][0] for k in range(400)]
    >>> bool(max(quiet[200:]) < 0.9)
    True
    >>> bool(bank.step(ids, np.array([80.0]), np.array([60.0 * 400]))[0][0] > 0.99)
    True
    """

    def __init__(self, params: BankParams | None = None, capacity: int = 64) -> None:
        self.params = params or BankParams()
        self.capacity = 0
        self.slots = self.params.season_slots * (2 if self.params.weekend_split else 1)
        self.calibrator = RecordCalibrator(self.params.record_decay, floor=self.params.surprise_floor,
                                           anomalous=self.params.record_anomalous)
        self.flat_calibrator = RecordCalibrator(self.params.record_decay, floor=3.0)
        p = self.params
        self.likelihood = AnomalyLikelihood(p.lik_short_alpha, p.lik_long_alpha, p.lik_decades, p.lik_min_std)
        self.drift = AnomalyLikelihood(p.drift_short_alpha, p.drift_long_alpha, p.drift_decades, p.drift_min_std,
                                       two_sided=True)
        self.suppressor = Suppressor(p.suppress_hold, rearm=p.suppress_rearm)
        self._extremes()
        self.flat_won = np.zeros(0, dtype=bool)  # per step: which scores came from the flatline part
        self.range_won = np.zeros(0, dtype=bool)  # ... from the range record
        self.silence_won = np.zeros(0, dtype=bool)  # ... from the silence score
        self.residual = np.zeros(0)  # per step: standardised signed residual of each value
        self._vec = {k: np.zeros(0) for k in (
            "n", "mu", "var", "prev", "dvar", "run", "fast", "es", "el", "lo", "hi", "last", "gap")}
        self._mat = {k: np.zeros((0, self.slots), dtype=np.float32) for k in ("smu", "svar", "sn")}
        self.ensure(capacity)

    def ensure(self, capacity: int) -> None:
        """Grow the state arrays (doubling) so series ids below `capacity` are valid."""
        if capacity <= self.capacity:
            return
        new = max(capacity, 2 * self.capacity, 64)
        for k, v in self._vec.items():
            self._vec[k] = np.concatenate([v, np.zeros(new - len(v))])
        for k, m in self._mat.items():
            self._mat[k] = np.concatenate([m, np.zeros((new - len(m), self.slots), dtype=np.float32)])
        for part in self._parts():
            part.ensure(new)
        self.capacity = new

    def reset(self, ids: np.ndarray) -> None:
        """Forget series (their slots are reused for new series)."""
        for v in self._vec.values():
            v[ids] = 0.0
        for m in self._mat.values():
            m[ids] = 0.0
        for part in self._parts():
            part.reset(ids)

    #: what an alert names as its detector when one of these parts, not the residual ensemble, raised it
    PART_NAMES = ("flatline", "range", "silence")

    def winner(self, j: int, default: str) -> str:
        """The detector name for row `j` of the last step: the part whose score it is, else `default`."""
        if self.silence_won[j]:
            return "silence"
        if self.flat_won[j]:
            return "flatline"
        return "range" if self.range_won[j] else default

    def _extremes(self) -> None:
        """The range record and the silence score, with the silence's own re-alert hold (`extremes`)."""
        p = self.params
        self.range = RangeRecord(p.range_margin, p.range_sigma, p.range_decay)
        self.silence = Silence(p.silence_z, p.silence_gap, decades=p.silence_decades,
                               min_bursts=p.silence_min_bursts)
        # its own hold: a silence alert must not halve the scores of the anomaly that may end it
        self.silence_suppressor = Suppressor(p.suppress_hold, rearm=p.suppress_rearm)

    def _parts(self) -> tuple[RecordCalibrator | AnomalyLikelihood | Suppressor | RangeRecord | Silence, ...]:
        return (self.calibrator, self.flat_calibrator, self.likelihood, self.drift, self.suppressor, self.range,
                self.silence, self.silence_suppressor)

    def _slot(self, t: np.ndarray) -> np.ndarray:
        p = self.params
        tod = ((t % DAY_S) * (p.season_slots / DAY_S)).astype(np.int64)
        if p.weekend_split:
            weekend = (((t + WEEK_EPOCH_SHIFT_S) // DAY_S) % 7) >= 5
            tod = tod + weekend * p.season_slots
        return tod

    def step(
        self, ids: np.ndarray, x: np.ndarray, t: np.ndarray, threshold: np.ndarray | float = 0.9
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score then learn one value for each (distinct) series id; `t` is local time in seconds.

        Returns (calibrated score in [0, 1], expected value).
        """
        p, v, m = self.params, self._vec, self._mat
        n, mu, var, prev, dvar, fast = (v[k][ids] for k in ("n", "mu", "var", "prev", "dvar", "fast"))
        slot = self._slot(t)
        gap, since, before = self._gaps(ids, n, t)
        if p.seasonal:
            self._carry_over(ids, n, slot, gap, since, before)
        sm, sv, sn = (m[k][ids, slot].astype(np.float64) for k in ("smu", "svar", "sn"))
        floor2 = (np.abs(mu) * p.rel_floor + 1e-9) ** 2
        sd = np.sqrt(var + floor2)
        seasonal = (sn >= p.season_warmup) if p.seasonal else np.zeros(len(ids), dtype=bool)
        es, el = v["es"][ids], v["el"][ids]  # recent squared errors of the slot mean and of the level
        if p.season_select:
            seasonal &= es <= p.season_select * el
        expected = np.where(seasonal, sm, mu)
        # a slot that has seen few values borrows the level's variance (shrinkage), or its first values
        # would look impossibly tight
        prior = p.season_prior * np.exp(-sn / (2.0 * p.season_warmup))  # fades once the slot has its own data
        sv_shrunk = (sn * sv + prior * var) / (sn + prior)
        # the prediction error also carries the error of the slot's mean, large while a slot has few values
        mean_err = np.maximum(1.0 / np.maximum(sn, 1.0), p.season_alpha / (2.0 - p.season_alpha))
        spread = np.where(seasonal, np.sqrt(sv_shrunk * (1.0 + mean_err) + floor2), sd)
        self.residual = (x - expected) / spread  # signed, for the multivariate detector
        z = z_raw = np.abs(self.residual)
        z = np.maximum(z, p.diff_weight * np.abs(x - prev) / np.sqrt(dvar + floor2))
        fast = np.where(n > 0, fast + p.fast_alpha * (x - fast), x)
        z = np.maximum(z, p.shift_weight * np.abs(fast - mu) / sd)
        over = np.log(np.maximum(z / p.z_max, 1.0))  # how far past the cap, for ordering only
        z = np.minimum(z, p.z_max)
        learning = n >= p.warmup
        warm = n >= p.warmup + p.calibration_warmup
        score = np.zeros(len(ids))
        residual_anomalous = np.zeros(len(ids), dtype=bool)
        self.range_won = np.zeros(len(ids), dtype=bool)
        pace = np.where(gap > 0, gap / p.drift_interval_s, 1.0)  # memories counted in time (drift, range)
        if p.residual:
            surprise = 0.5 * z * z * (1.0 + p.z_over * over)
            score = self.calibrator.step(ids, surprise, warm, learning)
            if p.likelihood:  # a single 5-sigma value already says all it can about a sustained episode
                score = combine(score, self.likelihood.step(ids, np.minimum(surprise, 12.5), warm, learning))
            if p.drift:
                signed = np.clip(self.residual, -p.clip, p.clip)
                score = combine(score, self.drift.step(ids, signed, warm, learning, pace))
            if p.range_record:
                beyond = self.range.step(ids, x, mu, sd, warm, pace)
                self.range_won = beyond > score
                score = combine(score, beyond)
            residual_anomalous = score >= threshold
            if p.suppress_hold:  # one alert per episode; a stuck sensor (below) keeps its own escalation
                score = self.suppressor.step(ids, score, threshold)
        self.flat_won = np.zeros(len(ids), dtype=bool)
        if p.flatline:
            run = np.where(np.abs(x - prev) <= p.flatline_tolerance, v["run"][ids] + 1.0, 0.0)
            v["run"][ids] = run
            lo, hi = v["lo"][ids], v["hi"][ids]
            v["lo"][ids] = np.where(n > 0, np.minimum(lo, x), x)
            v["hi"][ids] = np.where(n > 0, np.maximum(hi, x), x)
            # only repeated values can be part of a stuck run (rare for a live sensor): score just those
            k = np.flatnonzero(run > 0)
            flat = np.zeros(len(ids))
            if len(k):
                sid, cal = ids[k], self.flat_calibrator
                before = cal.peak[sid]
                f = cal.step(sid, run[k], warm[k], learning[k])
                # a stuck run already judged anomalous must not raise its own bar
                thr_k = np.broadcast_to(threshold, len(ids))[k]
                cal.peak[sid] = np.where(f >= thr_k, before, cal.peak[sid])
                # a run at the most extreme value this series ever reported is a saturated reading (occupancy
                # pinned at its maximum in an accident, which the residual reports); a stuck sensor reads a
                # value strictly inside its range (distance from the level failed: it follows a long episode)
                flat[k] = np.where((x[k] > lo[k]) & (x[k] < hi[k]), f, 0.0)
            self.flat_won = flat > score
            score = np.maximum(score, flat)
        anomalous = (score >= threshold) | residual_anomalous
        self.silence_won = np.zeros(len(ids), dtype=bool)
        if p.residual and p.silence:  # not a property of this value: learned as usual, held on its own
            quiet = self.silence_suppressor.step(ids, self.silence.step(ids, z_raw, warm, learning, pace), threshold)
            self.silence_won = quiet > score
            score = np.maximum(score, quiet)
        w = np.where(anomalous, p.anomalous_weight, 1.0)
        a = w * np.maximum(p.level_alpha, 1.0 / (n + 1.0))
        # no clipping while the level is still being learned: a sigma that starts at zero would make the
        # first minutes' level crawl and inflate the variance for hundreds of values
        bound = np.where(n < p.warmup, np.inf, p.clip * sd)
        r = np.clip(x - mu, -bound, bound)
        v["mu"][ids] = mu + a * r
        v["var"][ids] = (1.0 - a) * (var + a * r * r)
        ad = np.maximum(p.diff_alpha, 1.0 / (n + 1.0))
        sdd = np.sqrt(dvar + floor2)
        d = np.where(n > 0, np.clip(x - prev, -p.clip * sdd, p.clip * sdd), 0.0)
        v["dvar"][ids] = np.where(n > 0, (1.0 - ad) * dvar + ad * d * d, 0.0)
        v["prev"][ids] = x
        if p.season_select:  # compare the two predictors on the same (normal, capped) values
            judged = (sn >= p.season_warmup) & ~anomalous
            cap = 25.0 * (var + floor2)
            v["es"][ids] = np.where(judged, es + p.select_alpha * (np.minimum((x - sm) ** 2, cap) - es), es)
            v["el"][ids] = np.where(judged, el + p.select_alpha * (np.minimum((x - mu) ** 2, cap) - el), el)
        v["fast"][ids] = fast
        v["n"][ids] = n + 1.0
        a_s = np.maximum(p.season_alpha, 1.0 / (sn + 1.0))
        ssd = np.sqrt(sv + floor2)
        rs = np.where(sn > p.season_clip_after, np.clip(x - sm, -p.clip * ssd, p.clip * ssd), x - sm)
        m["smu"][ids, slot] = sm + a_s * rs
        m["svar"][ids, slot] = (1.0 - a_s) * (sv + a_s * rs * rs)
        m["sn"][ids, slot] = sn + 1.0
        return score, expected

    def _gaps(self, ids: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each series' mean reporting interval (EWMA of its gaps, capped at a slot; 0 before its second value),
        the time since its previous value and that value's slot: memories kept in time rather than in values.
        """
        v, slot_s = self._vec, DAY_S / self.params.season_slots
        last = v["last"][ids]
        since = t - last
        gap_now = np.clip(since, 0.0, slot_s)
        old = v["gap"][ids]
        gap = np.where(n >= 1, np.where(old > 0, old + GAP_ALPHA * (gap_now - old), gap_now), 0.0)
        v["gap"][ids], v["last"][ids] = gap, t
        return gap, since, self._slot(last)

    def _carry_over(self, ids: np.ndarray, n: np.ndarray, slot: np.ndarray, gap: np.ndarray, since: np.ndarray,
                    before: np.ndarray) -> None:
        """A dense series entering a slot starts it from the slot it just left (mean, variance, count).

        Dense: more than `season_visit_values` values per visit, from the reporting interval (`_gaps`). Its
        slot EWMA has forgotten all but the last minute of yesterday's visit, which lies half an hour of trend
        away; today's values just before the boundary are the better prediction. A series that was silent
        for longer than a slot keeps the old slot (nothing fresher to carry).
        """
        m, slot_s = self._mat, DAY_S / self.params.season_slots
        dense = (gap > 0) & (self.params.season_visit_values * gap < slot_s)
        k = np.flatnonzero(dense & (n >= 1) & (before != slot) & (since <= slot_s))
        if len(k):
            sid, to, frm = ids[k], slot[k], before[k]
            for name in ("smu", "svar", "sn"):
                m[name][sid, to] = m[name][sid, frm]

    def __getstate__(self) -> dict[str, Any]:
        return {"params": asdict(self.params), "capacity": self.capacity, "vec": self._vec, "mat": self._mat,
                "cal": self.calibrator, "flat": self.flat_calibrator, "lik": self.likelihood, "sup": self.suppressor,
                "drift": self.drift, "range": self.range, "silence": self.silence, "quiet": self.silence_suppressor}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.params = BankParams(**state["params"])
        self.capacity = state["capacity"]
        self.slots = self.params.season_slots * (2 if self.params.weekend_split else 1)
        self._vec, self._mat = state["vec"], state["mat"]
        for k in ("es", "el", "lo", "hi", "last", "gap"):  # snapshots from before selection / saturation / carry
            self._vec.setdefault(k, np.zeros(self.capacity))
        self.calibrator, self.flat_calibrator = state["cal"], state["flat"]
        self.likelihood, self.suppressor = state["lik"], state["sup"]
        self.suppressor.rearm = self.params.suppress_rearm  # snapshots from before the hysteresis take it up
        p = self.params  # snapshots from before the drift score start it fresh
        self.drift = state.get("drift") or AnomalyLikelihood(p.drift_short_alpha, p.drift_long_alpha, p.drift_decades,
                                                             p.drift_min_std, two_sided=True)
        self.drift.ensure(self.capacity)
        if "range" not in state:  # snapshots from before the range record and the silence score start them fresh
            self._extremes()
            for part in (self.range, self.silence, self.silence_suppressor):
                part.ensure(self.capacity)
        else:
            self.range, self.silence, self.silence_suppressor = state["range"], state["silence"], state["quiet"]
        self.flat_won = np.zeros(0, dtype=bool)
        self.range_won = np.zeros(0, dtype=bool)
        self.silence_won = np.zeros(0, dtype=bool)
        self.residual = np.zeros(0)
