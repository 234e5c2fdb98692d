"""NAB scorer sanity on hand-made corpora: perfect = 100, null = 0, early beats late, FPs cost."""

from __future__ import annotations

import numpy as np
import pytest

from streams.nab.scoring import file_rows, probation_length, score_corpus

N = 1000
WINDOWS = [(300, 339), (700, 739)]


def _score(s: np.ndarray, windows=WINDOWS) -> dict[str, float]:
    return {k: r.normalised for k, r in score_corpus([file_rows(s, windows)]).items()}


def test_perfect_detector_scores_100() -> None:
    s = np.zeros(N)
    for a, _ in WINDOWS:
        s[a] = 1.0
    assert _score(s) == pytest.approx({"standard": 100, "reward_low_FP_rate": 100, "reward_low_FN_rate": 100})


def test_null_detector_scores_0() -> None:
    assert _score(np.zeros(N)) == {"standard": 0.0, "reward_low_FP_rate": 0.0, "reward_low_FN_rate": 0.0}


def test_early_detection_beats_late_and_fp_costs() -> None:
    early, late, noisy = np.zeros(N), np.zeros(N), np.zeros(N)
    for a, b in WINDOWS:
        early[a + 5], late[b - 2] = 1.0, 1.0
        noisy[a + 5] = 1.0
    noisy[200] = 1.0  # a lonely false positive far from any window costs the full A_FP
    e, lt, n = _score(early)["standard"], _score(late)["standard"], _score(noisy)["standard"]
    assert 90 < e < 100 and lt < e and 0 < lt
    # one FP: raw -0.11 on a range of 2 * 2 windows = 4 -> 2.75 points
    assert e - n == pytest.approx(100 * 0.11 / 4)


def test_probation_rows_are_not_scored() -> None:
    s = np.zeros(N)
    s[: probation_length(N)] = 1.0  # detections only inside the probationary period
    assert _score(s)["standard"] == 0.0


def test_threshold_is_optimised_over_the_corpus() -> None:
    s = np.full(N, 0.3)
    for a, _ in WINDOWS:
        s[a] = 0.8
    result = score_corpus([file_rows(s, WINDOWS)])["standard"]
    assert result.threshold == 0.8 and result.normalised == pytest.approx(100)


def test_windows_inside_probation_do_not_collide_across_files() -> None:
    # file A's first window lies in its probation period: only its second window counts, and it must not
    # share an id with file B's window when the corpus is concatenated
    a, b = np.zeros(N), np.zeros(N)
    a[700] = b[300] = 1.0
    rows = [file_rows(a, [(10, 20), (700, 739)]), file_rows(b, [(300, 339)])]
    assert [r.n_windows for r in rows] == [1, 1]
    assert score_corpus(rows)["standard"].normalised == pytest.approx(100)
