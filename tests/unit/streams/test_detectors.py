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


def test_a_fast_reporter_pausing_for_seconds_is_not_offline_but_a_minute_of_silence_is() -> None:
    det = OfflineBank()  # floor: 60 s of silence, whatever the learned interval
    for k in range(30):
        det.learn_one({"t": float(k)})  # one message a second
    assert det.score_one({"t": 29.0 + 10}) == 0.0  # ten intervals, but ten seconds
    assert det.score_one({"t": 29.0 + 61}) > 0.9


def test_detectors_pickle_with_identical_behaviour() -> None:
    rng = np.random.default_rng(15)
    det = SeasonalBaseline()
    _run(det, 10 + rng.normal(size=500))
    twin = pickle.loads(pickle.dumps(det))  # noqa: S301 - our own bytes
    xs = 10 + rng.normal(size=50)
    assert _run(det, xs, start=500) == _run(twin, xs, start=500)
    assert twin.season_slots == 48 and twin.weekend_split is False


def test_likelihood_flags_sustained_surprise_not_routine_jitter() -> None:
    from streams.detectors.likelihood import AnomalyLikelihood

    rng = np.random.default_rng(16)
    lik = AnomalyLikelihood()
    lik.ensure(2)
    ids, on = np.array([0, 1]), np.array([True, True])
    # series 0 is calm, series 1 bursty: the same raw surprise of 3 is routine for one, not the other
    calm = np.abs(rng.normal(size=(3000, 1)))
    bursty = np.where(rng.random((3000, 1)) < 0.2, 3.0, np.abs(rng.normal(size=(3000, 1))))
    for row in np.hstack([calm, bursty]):
        lik.step(ids, row, on)
    scores = [lik.step(ids, np.array([3.0, 3.0]), on) for _ in range(3)]
    assert scores[-1][0] > 0.9 > scores[-1][1]


def test_suppression_gives_one_alert_per_episode() -> None:
    rng = np.random.default_rng(17)
    det = PredictiveResidual()
    _run(det, 10 + rng.normal(size=1000))
    episode = _run(det, np.r_[60.0, 10 + rng.normal(size=5), 70.0, 10 + rng.normal(size=200), 90.0], start=1000)
    assert episode[0] > 0.99
    assert max(episode[1:100]) < 0.9  # the second spike of the same episode is held back
    assert episode[-1] > 0.9  # a spike after the quiet period alerts again


def test_multivariate_flags_a_joint_shift_no_single_metric_flags() -> None:
    from streams.detectors.likelihood import neg_log10_tail
    from streams.detectors.multivariate import MahalanobisBank

    rng = np.random.default_rng(18)
    bank = MahalanobisBank(max_dim=3)
    bank.ensure(1)
    ids, dims = np.array([0]), np.array([3])
    calm = []
    for _ in range(3000):  # three metrics driven by one factor: correlated, not anomalous
        f = rng.normal()
        calm.append(float(bank.step(ids, np.array([[f, 0.9 * f + 0.3 * rng.normal(), -f + 0.2 * rng.normal()]]),
                                    dims)[0]))
    assert max(calm[200:]) < 0.9
    assert float(neg_log10_tail(np.array([2.5]))[0]) < 3  # 2.5 sigma on one metric: a 1-in-160 event
    assert float(bank.step(ids, np.array([[2.5, -2.5, 2.5]]), dims)[0]) > 0.99
    assert bank.cov.shape[1:] == (3, 3)  # bounded: max_dim**2 floats per device


def test_new_state_survives_pickle() -> None:
    rng = np.random.default_rng(19)
    det = PredictiveResidual()
    _run(det, np.r_[10 + rng.normal(size=600), 50.0])  # leaves a running quiet period behind
    twin = pickle.loads(pickle.dumps(det))  # noqa: S301 - our own bytes
    xs = np.r_[80.0, 10 + rng.normal(size=80), 80.0]
    assert _run(det, xs, start=601) == _run(twin, xs, start=601)
