"""Detector behaviour on seeded synthetic series: spike, level shift, flatline, seasonality, offline."""

from __future__ import annotations

import pickle

import numpy as np

from streams.detectors.offline import OfflineBank
from streams.detectors.univariate import Flatline, PredictiveResidual, SeasonalBaseline

DAY = 288  # 5-minute readings


def _run(det, values, start=0, step=300.0) -> list[float]:
    out = []
    for k, v in enumerate(values, start):
        x = {"value": float(v), "t": step * k}
        out.append(det.score_one(x))
        det.learn_one(x)
    return out


def test_spike_is_flagged_and_noise_is_not() -> None:
    rng = np.random.default_rng(11)
    det = PredictiveResidual()
    quiet = _run(det, 100 + 5 * rng.normal(size=2000))
    assert max(quiet[300:]) < 0.9
    assert det.score_one({"value": 200.0, "t": 300.0 * 2000}) > 0.99


def test_level_shift_is_flagged_once_then_absorbed() -> None:
    rng = np.random.default_rng(12)
    det = PredictiveResidual()
    _run(det, 10 + rng.normal(size=1000))
    after = _run(det, 25 + rng.normal(size=3000), start=1000)
    assert after[0] > 0.99
    assert max(after[1500:]) < 0.9  # the new level has become normal


def test_flatline_flags_stuck_sensor() -> None:
    rng = np.random.default_rng(13)
    det = Flatline()
    quiet = _run(det, np.round(20 + rng.normal(size=1000), 1))
    assert max(quiet[300:]) < 0.9
    stuck = _run(det, np.full(40, 20.0), start=1000)
    assert stuck[-1] > 0.99


def test_seasonal_pattern_raises_no_false_alarms_but_off_season_value_does() -> None:
    rng = np.random.default_rng(14)
    det = SeasonalBaseline()
    k = np.arange(DAY * 14)
    daily = 50 + 30 * np.sin(2 * np.pi * k / DAY)
    scores = _run(det, daily + rng.normal(size=len(k)))
    assert max(scores[DAY * 3 :]) < 0.9
    # the night-time value at noon: within the overall range, but wrong for the time of day
    noon = DAY * 14 + DAY // 4
    assert det.score_one({"value": 20.0, "t": 300.0 * noon}) > 0.99


def test_offline_after_missed_heartbeats() -> None:
    det = OfflineBank()
    for k in range(30):
        det.learn_one({"t": 60.0 * k})
    assert det.score_one({"t": 29 * 60.0 + 60}) < 0.1
    assert det.score_one({"t": 29 * 60.0 + 240}) > 0.9


def test_detectors_pickle_with_identical_behaviour() -> None:
    rng = np.random.default_rng(15)
    det = SeasonalBaseline()
    _run(det, 10 + rng.normal(size=500))
    twin = pickle.loads(pickle.dumps(det))  # noqa: S301 - our own bytes
    xs = 10 + rng.normal(size=50)
    assert _run(det, xs, start=500) == _run(twin, xs, start=500)
    assert twin.season_slots == 48 and twin.weekend_split is False
