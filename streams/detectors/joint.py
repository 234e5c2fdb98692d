"""`JointScorer`: from a batch of per-value residuals to one multivariate score per multi-metric event.

The detection engine scores every (device, metric) value with a `ResidualBank`, which leaves the signed
standardised residual of each value. Values of one event are contiguous (the event's measurements, in
order); an event with two or more metrics becomes one residual vector, keyed by `(device_id, metric names)`
so a device that changes what it reports starts a new model instead of mixing dimensions. Vectors of one
device keep their batch order (round r scores the r-th vector of every device).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from streams.detectors.multivariate import MahalanobisBank
from streams.detectors.series import SeriesIndex


def occurrence_rank(ids: np.ndarray) -> np.ndarray:
    """How many earlier entries carry the same id: round r scores the r-th value of every series.

    >>> occurrence_rank(np.array([4, 2, 4, 4, 2, 7])).tolist()
    [0, 0, 1, 2, 1, 0]
    """
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    start = np.r_[True, s[1:] != s[:-1]]
    first = np.flatnonzero(start)[np.cumsum(start) - 1]
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids)) - first
    return rank


class JointScorer:
    """Multivariate state of one detector group: a device-vector index and a `MahalanobisBank`."""

    def __init__(self, max_series: int, max_dim: int = 6) -> None:
        self.index = SeriesIndex(max_series)
        self.bank = MahalanobisBank(max_dim=max_dim)

    def score(self, vkeys: Sequence[tuple[Hashable, tuple[str, ...]]], start: np.ndarray, owners: np.ndarray,
              residual: np.ndarray, threshold: float) -> list[tuple[int, str, float, float, float]]:
        """Hits as (event index, metric label, d2, dims, score) for vectors scoring `>= threshold`.

        Vector v is `residual[start[v] : start[v] + len(vkeys[v][1])]`, of the event `owners[v]`;
        `vkeys[v]` is its `(device_id, metric names)`.
        """
        if not len(vkeys):
            return []
        dims = np.fromiter((len(k[1]) for k in vkeys), np.int64, len(vkeys))
        ids, evicted = self.index.lookup(vkeys)
        self.bank.ensure(self.index.capacity)
        if len(evicted):
            self.bank.reset(evicted)
        width = int(min(dims.max(), self.bank.max_dim))
        cols = np.arange(width)
        take = np.minimum(start[:, None] + cols[None, :], len(residual) - 1)
        vectors = np.where(cols[None, :] < dims[:, None], residual[take], 0.0)
        rank = occurrence_rank(ids)
        hits = []
        for r in range(int(rank.max()) + 1):
            sel = np.flatnonzero(rank == r)
            score = self.bank.step(ids[sel], vectors[sel], dims[sel], threshold)
            for j in np.flatnonzero(score >= threshold).tolist():
                k = int(sel[j])
                hits.append((int(owners[k]), "+".join(vkeys[k][1]), float(self.bank.last_d2[j]),
                             float(min(dims[k], self.bank.max_dim)), float(score[j])))
        return hits
