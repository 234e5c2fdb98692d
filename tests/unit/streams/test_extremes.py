"""The range record and the silence score (`streams.detectors.extremes`), alone and inside `ResidualBank`."""

from __future__ import annotations

import pickle

import numpy as np

from streams.detectors.bank import ResidualBank
from streams.detectors.extremes import RangeRecord, Silence
from streams.detectors.params import BankParams

IDS = np.array([0])
ON = np.array([True])


def _bank_scores(bank: ResidualBank, x: np.ndarray, step_s: float = 300.0) -> tuple[np.ndarray, list[str]]:
    scores, names = [], []
    for k, v in enumerate(x):
        s = float(bank.step(IDS, np.array([v]), np.array([step_s * k]))[0][0])
        scores.append(s)
        names.append(bank.winner(0, "seasonal"))
    return np.array(scores), names


def _bursty(n: int, seed: int = 4) -> np.ndarray:
    """A disk-write-like gauge: near zero, with a large burst every 100-200 values (5-minute readings)."""
    rng = np.random.default_rng(seed)
    x = np.abs(rng.normal(0.0, 0.05, size=n))
    k = 100
    while k < n:
        x[k] += 4.0 + rng.random()
        k += int(rng.integers(100, 200))
    return x


def test_range_record_ignores_white_noise() -> None:
    rec = RangeRecord()
    rec.ensure(1)
    x = 10 + np.random.default_rng(0).normal(size=20_000)
    scores = [float(rec.step(IDS, np.array([v]), np.array([10.0]), np.array([1.0]), ON)[0]) for v in x]
    assert max(scores[200:]) < 0.9


def test_range_record_needs_both_margins() -> None:
    rec = RangeRecord(margin=0.1, sigma=1.5)
    rec.ensure(1)
    for v in (0.0, 10.0):
        rec.step(IDS, np.array([v]), np.array([5.0]), np.array([1.0]), ON)
    score = lambda v, sd: float(rec.step(IDS, np.array([v]), np.array([5.0]), np.array([sd]), ON)[0])  # noqa: E731
    assert score(11.6, 0.1) > 0.9  # 16% of the width beyond, 16 sigma
    assert score(12.5, 2.0) < 0.9  # 8% beyond the new bound (11.6): not yet a record by a clear margin


def test_range_record_forgets_slowly() -> None:
    rec = RangeRecord(decay=1e-3)
    rec.ensure(1)
    rec.step(IDS, np.array([100.0]), np.array([0.0]), np.array([1.0]), ON)
    for _ in range(5000):  # the old peak fades towards the level
        rec.step(IDS, np.array([0.0]), np.array([0.0]), np.array([1.0]), ON)
    assert float(rec.step(IDS, np.array([50.0]), np.array([0.0]), np.array([1.0]), ON)[0]) > 0.99


def test_silence_needs_bursts_first() -> None:
    sil = Silence()
    sil.ensure(1)
    calm = [float(sil.step(IDS, np.array([abs(v)]), ON, ON)[0]) for v in np.random.default_rng(1).normal(size=5000)]
    assert max(calm) == 0.0  # no bursts ever seen: a calm series is never "silent"


def test_silence_scores_a_stopped_burst_pattern_once_it_is_improbable() -> None:
    sil = Silence()
    sil.ensure(1)
    for k in range(1000):  # a burst every 40 values
        sil.step(IDS, np.array([8.0 if k % 40 == 0 else 0.3]), ON, ON)
    quiet = np.array([float(sil.step(IDS, np.array([0.3]), ON, ON)[0]) for _ in range(400)])
    first = int(np.argmax(quiet >= 0.9))
    assert 200 < first < 320  # 0.9 x 3.5 decades x ln 10 x 40 values = 290 values of quiet


def test_bank_names_a_silence_alert_and_alerts_once() -> None:
    x = np.concatenate([_bursty(4000), np.abs(np.random.default_rng(9).normal(0.0, 0.05, size=2500))])
    scores, names = _bank_scores(ResidualBank(), x)
    late = np.flatnonzero(scores[4000:] >= 0.9) + 4000
    assert len(late) == 1 and names[late[0]] == "silence"
    assert late[0] - 4000 > 600  # after several usual gaps (~150 values), not at the first quiet value


def test_bank_names_a_new_record_high() -> None:
    rng = np.random.default_rng(5)
    k = np.arange(4000)
    x = 50 + 20 * np.sin(2 * np.pi * k / 288) + 8 * rng.standard_t(3, size=4000)  # heavy-tailed: many spikes
    x[3500] = x[:3500].max() + 0.3 * (x[:3500].max() - x[:3500].min())
    scores, names = _bank_scores(ResidualBank(), x)
    assert scores[3500] > 0.99 and names[3500] == "range"
    plain, _ = _bank_scores(ResidualBank(BankParams(range_record=False, silence=False)), x)
    assert plain[3500] < 0.95  # against this gauge's many t-distributed spikes, barely a record


def test_snapshot_from_before_the_extremes_starts_them_fresh() -> None:
    bank = ResidualBank()
    _bank_scores(bank, _bursty(400))
    state = bank.__getstate__()
    for key in ("range", "silence", "quiet"):
        del state[key]
    for key in [k for k in state["params"] if k.startswith(("range_", "silence"))]:
        del state["params"][key]
    old = ResidualBank.__new__(ResidualBank)
    old.__setstate__(pickle.loads(pickle.dumps(state)))  # noqa: S301 - our own bytes
    score, _ = old.step(IDS, np.array([0.1]), np.array([400 * 300.0]))
    assert 0.0 <= float(score[0]) <= 1.0 and len(old.range._state["hi"]) == old.capacity
