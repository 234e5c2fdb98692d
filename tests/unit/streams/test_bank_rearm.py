"""`ResidualBank`'s re-alert hysteresis (`BankParams.suppress_rearm`): one alert per episode, however long."""

from __future__ import annotations

import pickle

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.likelihood import Suppressor
from streams.detectors.params import BankParams

IDS = np.array([0])


def _scores(bank: ResidualBank, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.array([float(bank.step(IDS, np.array([v]), np.array([s]))[0][0]) for v, s in zip(x, t, strict=True)])


def _two_bursts() -> tuple[np.ndarray, np.ndarray]:
    # 5-minute values; a noisy 8-sigma burst of 200 values (~17 h, four times the hold), calm, a second burst
    rng = np.random.default_rng(3)
    n = 3000
    x = 20 + rng.normal(size=n)
    x[2000:2200] += 8 + 3 * rng.normal(size=200)
    x[2600:2620] += 40
    return x, 300.0 * np.arange(n)


def test_an_episode_longer_than_the_hold_alerts_once() -> None:
    x, t = _two_bursts()
    held = np.flatnonzero(_scores(ResidualBank(), x, t) >= 0.9)
    plain = np.flatnonzero(_scores(ResidualBank(BankParams(suppress_rearm=0.0)), x, t) >= 0.9)
    first = held[(held >= 2000) & (held < 2600)]
    assert len(first) == 1 and first[0] <= 2002
    assert len(plain[(plain >= 2000) & (plain < 2600)]) >= 3  # without hysteresis: again every 51 values


def test_the_next_episode_after_calm_still_alerts() -> None:
    x, t = _two_bursts()
    held = np.flatnonzero(_scores(ResidualBank(), x, t) >= 0.9)
    assert np.any((held >= 2600) & (held < 2605))


def test_suppressor_rearms_only_below_the_line() -> None:
    sup = Suppressor(hold=2, rearm=0.9)
    sup.ensure(1)
    out = [float(sup.step(IDS, np.array([s]), 0.9)[0]) for s in (0.95, 0.9, 0.9, 0.9, 0.8, 0.95)]
    assert out[0] == 0.95 and max(out[1:5]) < 0.9 and out[5] == 0.95


def test_snapshot_from_before_the_hysteresis_takes_it_up() -> None:
    bank = ResidualBank()
    _scores(bank, np.full(50, 3.0), 300.0 * np.arange(50))
    state = bank.__getstate__()
    del state["params"]["suppress_rearm"]
    del state["sup"].__dict__["rearm"]  # a Suppressor pickled before the attribute existed
    old = ResidualBank.__new__(ResidualBank)
    old.__setstate__(pickle.loads(pickle.dumps(state)))  # noqa: S301 - our own bytes
    assert old.suppressor.rearm == BankParams().suppress_rearm
