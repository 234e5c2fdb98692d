"""The published NAB scoring rules, reimplemented (Lavin & Ahmad 2015; NAB `sweeper.py`/`optimizer.py`).

Every row gets a *sweep score*: inside a label window a detection is worth a scaled sigmoid of how early it
comes (the first row of a window is worth exactly `A_TP`); outside, it costs `A_FP` times a sigmoid of the
distance past the previous window (a late detection right after a window costs little, a lonely one the full
`A_FP`). Per window only the best (earliest) detection counts; an undetected window costs `A_FN`. Rows of
the probationary period (15% of each file, at most 750 rows) are not scored. One threshold per profile is
chosen over the whole corpus (exhaustive sweep, as NAB's optimizer does) and the total is normalised so the
null detector (never fires) scores 0 and the perfect one (fires on the first row of each window) 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Application profile: the weights of true/false positives and false negatives."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", tp=1.0, fp=0.11, fn=1.0),
    Profile("reward_low_FP_rate", tp=1.0, fp=0.22, fn=1.0),
    Profile("reward_low_FN_rate", tp=1.0, fp=0.11, fn=2.0),
)
PROBATION_PERCENT = 0.15


def scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    """NAB's `scaledSigmoid`: +0.987 at a window's start, 0 at its end, towards -1 after it.

    >>> [round(float(v), 3) for v in scaled_sigmoid(np.array([-1.0, 0.0, 0.5, 4.0]))]
    [0.987, 0.0, -0.848, -1.0]
    """
    val = 2.0 / (1.0 + np.exp(5.0 * np.minimum(position, 3.5))) - 1.0
    return np.where(position > 3.0, -1.0, val)


def probation_length(n_rows: int) -> int:
    """Rows at the start of a file that are learned from but not scored (NAB: 15%, at most 750).

    >>> probation_length(4000), probation_length(22695)
    (600, 750)
    """
    return int(min(math.floor(PROBATION_PERCENT * n_rows), PROBATION_PERCENT * 5000))


@dataclass(frozen=True)
class FileRows:
    """One file's scorable rows: anomaly score, sweep score per profile, window id (-1 = outside)."""

    scores: np.ndarray
    window: np.ndarray
    sweep: dict[str, np.ndarray]
    n_windows: int


def file_rows(scores: np.ndarray, windows: Sequence[tuple[int, int]]) -> FileRows:
    """Sweep-score one file; `windows` are inclusive (start, end) row indices, in time order."""
    n = len(scores)
    idx = np.arange(n)
    window = np.full(n, -1, dtype=np.int64)
    position = np.full(n, np.inf)  # rows before any window: "far away", unweighted -1
    in_window = np.zeros(n, dtype=bool)
    for w, (start, end) in enumerate(windows):
        width = end - start + 1
        window[start : end + 1] = w
        in_window[start : end + 1] = True
        position[start : end + 1] = -(end - idx[start : end + 1] + 1) / width
        nxt = windows[w + 1][0] if w + 1 < len(windows) else n
        after = idx[end + 1 : nxt]
        position[end + 1 : nxt] = (after - end) / max(width - 1, 1)
    unweighted = scaled_sigmoid(position)
    keep = idx >= probation_length(n)
    sweep = {
        p.name: np.where(in_window, unweighted * p.tp / scaled_sigmoid(np.array(-1.0)), unweighted * p.fp)[keep]
        for p in PROFILES
    }
    # windows wholly inside the probation period do not count; renumber the rest 0..k-1 so window ids stay
    # distinct when files are concatenated in `score_corpus`
    win = window[keep]
    live, win[win >= 0] = np.unique(win[win >= 0], return_inverse=True)
    return FileRows(np.asarray(scores, dtype=float)[keep], win, sweep, len(live))


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    threshold: float
    raw: float
    normalised: float


def score_corpus(files: Sequence[FileRows]) -> dict[str, ProfileResult]:
    """Optimise one threshold per profile over all files and normalise (null = 0, perfect = 100)."""
    offsets = np.cumsum([0] + [f.n_windows for f in files])
    scores = np.concatenate([f.scores for f in files])
    window = np.concatenate([np.where(f.window >= 0, f.window + o, -1) for f, o in zip(files, offsets, strict=False)])
    n_windows = int(offsets[-1])
    order = np.argsort(-scores, kind="stable")
    scores, window = scores[order], window[order]
    # The last row of each group of equal scores is where a threshold "score >= t" can be cut.
    cuts = np.flatnonzero(np.r_[scores[1:] != scores[:-1], True])
    out = {}
    for p in PROFILES:
        sweep = np.concatenate([f.sweep[p.name] for f in files])[order]
        delta = np.where(window < 0, sweep, 0.0)
        best = np.full(n_windows, np.nan)
        for i in np.flatnonzero(window >= 0):  # only window rows: ~10% of the corpus
            w, s = window[i], sweep[i]
            if np.isnan(best[w]):
                delta[i], best[w] = s + p.fn, s
            elif s > best[w]:
                delta[i], best[w] = s - best[w], s
        null = -p.fn * n_windows
        totals = null + np.cumsum(delta)[cuts]
        k = int(np.argmax(totals)) if len(totals) else 0
        raw, threshold = (float(totals[k]), float(scores[cuts[k]])) if len(totals) and totals[k] > null else (
            null, math.inf)
        perfect = p.tp * n_windows
        norm = 100.0 * (raw - null) / (perfect - null) if n_windows else 0.0
        out[p.name] = ProfileResult(p.name, threshold, raw, norm)
    return out
