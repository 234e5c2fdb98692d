"""`ResidualBank` choices added for NAB and the simulator: predictor selection, young slots, repeat alerts."""

from __future__ import annotations

import pickle

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.calibration import RecordCalibrator
from streams.detectors.params import BankParams

IDS = np.array([0])


def _feed(bank: ResidualBank, values, times) -> list[float]:
    return [float(bank.step(IDS, np.array([v]), np.array([t]))[0][0]) for v, t in zip(values, times, strict=True)]


def test_series_without_daily_rhythm_is_judged_by_its_level() -> None:
    # white noise: 48 slot means of a few values each predict worse than one level, so the level is used
    rng = np.random.default_rng(3)
    bank = ResidualBank()
    n = 3000
    _feed(bank, 50 + 5 * rng.normal(size=n), 300.0 * np.arange(n))
    es, el = bank._vec["es"][0], bank._vec["el"][0]
    assert es > BankParams().season_select * el
    _, expected = bank.step(IDS, np.array([50.0]), np.array([300.0 * n]))
    assert abs(expected[0] - bank._vec["mu"][0]) < 1.0  # the level's prediction, not a slot's


def test_daily_rhythm_keeps_the_seasonal_prediction() -> None:
    rng = np.random.default_rng(4)
    bank = ResidualBank()
    t = 300.0 * np.arange(288 * 10)
    x = 50 + 30 * np.sin(2 * np.pi * t / 86_400) + rng.normal(size=len(t))
    scores = _feed(bank, x, t)
    assert bank._vec["es"][0] < BankParams().season_select * bank._vec["el"][0]
    assert max(scores[288 * 3 :]) < 0.9


def test_fast_series_entering_a_new_half_hour_slot_is_not_flagged() -> None:
    # two readings a second on a slow ramp: the first values of a never-seen slot must not look impossibly
    # tight (they used to be learned clipped, which flagged every sensor at each new half hour)
    rng = np.random.default_rng(5)
    bank = ResidualBank()
    t = 8 * 3600 + 0.5 * np.arange(2 * 3600 * 2)  # 08:00-10:00 local
    x = 30 + 4 * (t - t[0]) / 7200 + 3 * rng.normal(size=len(t))
    scores = np.array(_feed(bank, x, t))
    assert scores[400:].max() < 0.9


def test_a_second_spike_as_large_as_the_first_still_alerts() -> None:
    rng = np.random.default_rng(6)
    bank = ResidualBank()
    k = 0

    def run(values):
        nonlocal k
        out = _feed(bank, values, 300.0 * np.arange(k, k + len(values)))
        k += len(values)
        return out

    run(10 + rng.normal(size=1000))
    assert run([40.0])[0] > 0.9
    run(10 + rng.normal(size=300))
    assert run([40.0])[0] > 0.9


def test_record_peak_rises_only_partly_on_an_alert() -> None:
    cal = RecordCalibrator(decay=0.0, anomalous=0.5)
    cal.ensure(1)
    on = np.array([True])
    cal.peak[0] = 10.0
    assert cal.step(IDS, np.array([100.0]), on)[0] > 0.9
    assert cal.peak[0] == 55.0  # half way from 10 to 100


def test_snapshot_from_before_selection_state_still_loads() -> None:
    bank = ResidualBank()
    _feed(bank, [1.0, 2.0, 3.0], [0.0, 300.0, 600.0])
    state = bank.__getstate__()
    for key in ("es", "el", "last", "gap"):
        del state["vec"][key]
    old = ResidualBank.__new__(ResidualBank)
    old.__setstate__(pickle.loads(pickle.dumps(state)))  # noqa: S301 - our own bytes
    _feed(old, [4.0], [900.0])
    assert len(old._vec["es"]) == len(old._vec["gap"]) == old.capacity


def test_stuck_normal_value_is_a_flatline_but_a_pinned_extreme_is_not() -> None:
    rng = np.random.default_rng(8)
    params = BankParams(flatline=True)
    stuck, pinned = ResidualBank(params), ResidualBank(params)
    t = 0.5 * np.arange(3000)
    x = 0.45 + 0.02 * rng.normal(size=len(t))
    for bank in (stuck, pinned):
        _feed(bank, x, t)
    tail = 0.5 * np.arange(3000, 3020)
    _feed(stuck, np.full(20, 0.45), tail)
    assert stuck.flat_won.any()
    scores = _feed(pinned, np.full(20, 0.97), tail)  # an accident saturates occupancy
    assert scores[0] > 0.9 and not pinned.flat_won.any()  # the residual reports it, not a sensor fault


def test_dense_series_on_a_daily_ramp_is_not_flagged_at_each_half_hour_of_the_second_day() -> None:
    # a reading every 10 s (180 per half-hour slot) on a steep daily rhythm: a slot's EWMA (0.1 per value) holds
    # only the last minute of yesterday's visit, so each slot used to open on a prediction half an hour of
    # trend stale (the simulator's false traffic jams at 09:00 and 09:30 after a day of history)
    rng = np.random.default_rng(9)
    bank = ResidualBank()
    t = 10.0 * np.arange(2 * 8640)
    x = 50 + 30 * np.sin(2 * np.pi * t / 86_400) + 0.5 * rng.normal(size=len(t))
    scores = np.array(_feed(bank, x, t))
    assert scores[8640:].max() < 0.9
    # the rhythm is still learned: a value 10 sigma off the second day's curve is flagged
    k = len(t)
    off = 50 + 30 * np.sin(2 * np.pi * 10.0 * k / 86_400) + 5.0
    assert bank.step(IDS, np.array([off]), np.array([10.0 * k]))[0][0] > 0.9
