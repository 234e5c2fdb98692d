"""`ResidualBank`'s drift score: a lasting move of the typical value, with memories counted in time."""

from __future__ import annotations

import pickle

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.params import BankParams

IDS = np.array([0])


def _scores(bank: ResidualBank, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.array([float(bank.step(IDS, np.array([v]), np.array([s]))[0][0]) for v, s in zip(x, t, strict=True)])


def test_white_noise_every_five_minutes_raises_no_alert() -> None:
    rng = np.random.default_rng(13)
    n = 8000
    scores = _scores(ResidualBank(), 20 + rng.normal(size=n), 300.0 * np.arange(n))
    assert scores[300:].max() < 0.9


def test_a_lasting_one_sigma_shift_is_found_only_by_the_drift_score() -> None:
    # no single value is surprising (z ~ 1-3), so the record score and the likelihood stay quiet
    rng = np.random.default_rng(11)
    n = 4000
    x = 20 + rng.normal(size=n)
    x[3000:] += 1.0
    t = 300.0 * np.arange(n)
    with_drift = _scores(ResidualBank(), x, t)
    without = _scores(ResidualBank(BankParams(drift=False)), x, t)
    assert with_drift[300:3000].max() < 0.9
    first = 3000 + int(np.argmax(with_drift[3000:] >= 0.9))
    assert with_drift[first] >= 0.9 and first < 3300  # within a day of five-minute values
    assert without[300:].max() < 0.9


def test_a_twenty_minute_episode_of_a_fast_series_is_no_drift() -> None:
    # a reading every 10 s: 100 values are 17 minutes, a traffic episode, not a moved baseline
    rng = np.random.default_rng(12)
    n = 6 * 360
    x = 20 + rng.normal(size=n)
    x[1500:1620] += 1.0
    scores = _scores(ResidualBank(), x, 10.0 * np.arange(n))
    assert scores[300:].max() < 0.9


def test_snapshot_from_before_the_drift_score_still_loads() -> None:
    bank = ResidualBank()
    _scores(bank, np.full(50, 3.0), 300.0 * np.arange(50))
    state = bank.__getstate__()
    del state["drift"]
    old = ResidualBank.__new__(ResidualBank)
    old.__setstate__(pickle.loads(pickle.dumps(state)))  # noqa: S301 - our own bytes
    assert len(old.drift._state["n"]) == old.capacity
    old.step(IDS, np.array([3.0]), np.array([300.0 * 50]))
