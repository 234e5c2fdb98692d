"""`MahalanobisBank`: a joint-shift detector for devices that report several metrics at once.

A traffic detector whose speed falls by two sigma while occupancy *falls* too is odd although neither metric
is: speed and occupancy normally move in opposite directions. Each metric's univariate model already turns a
reading into a standardised residual; this bank keeps, per device, an EWMA second-moment matrix of the
residual vector and scores the squared Mahalanobis distance `d2 = r' C^-1 r`. Under normal operation `d2`
is chi-squared with `k` degrees of freedom (`k` = number of metrics); the Wilson-Hilferty cube root turns it
into a normal z and the score is the log tail `-log10 q / decades`, the same scale as `likelihood`.

Memory is bounded: `max_dim**2 + 2` floats per device (metrics beyond `max_dim` are ignored), and devices
are slots of a `SeriesIndex` in the caller. Score first, then learn; anomalous vectors are learned with a
small weight so an incident does not teach the model that the odd is normal.
"""

from __future__ import annotations

import numpy as np

from streams.detectors.likelihood import neg_log10_tail


class MahalanobisBank:
    """Per-device residual covariance, vectorised over a batch of distinct devices.

    >>> bank, rng = MahalanobisBank(max_dim=2), np.random.default_rng(4)
    >>> bank.ensure(1)
    >>> ids, k = np.array([0]), np.array([2])
    >>> def noise():  # two metrics that move together (correlation 0.95)
    ...     a = rng.normal()
    ...     return np.array([[a, 0.95 * a + 0.31 * rng.normal()]])
    >>> calm = [float(bank.step(ids, noise(), k)[0]) for _ in range(2000)]
    >>> max(calm[200:]) < 0.9                         # correlated noise is quiet
    True
    >>> float(bank.step(ids, np.array([[2.0, -2.0]]), k)[0]) > 0.99   # 2 sigma each, but against each other
    True
    """

    def __init__(self, max_dim: int = 6, alpha: float = 0.005, warmup: int = 100, decades: float = 7.0,
                 anomalous_weight: float = 0.1, z_max: float = 10.0) -> None:
        self.max_dim = max_dim
        self.alpha = alpha
        self.warmup = warmup
        self.decades = decades
        self.anomalous_weight = anomalous_weight
        self.z_max = z_max
        self.cov = np.zeros((0, max_dim, max_dim))
        self.n = np.zeros(0)
        self.last_d2 = np.zeros(0)  # per step: the distance behind each score (the evidence)

    def ensure(self, capacity: int) -> None:
        if capacity > len(self.n):
            grow = max(capacity, 2 * len(self.n), 64) - len(self.n)
            self.cov = np.concatenate([self.cov, np.broadcast_to(np.eye(self.max_dim), (grow, *self.cov.shape[1:]))])
            self.n = np.concatenate([self.n, np.zeros(grow)])

    def reset(self, ids: np.ndarray) -> None:
        self.cov[ids] = np.eye(self.max_dim)
        self.n[ids] = 0.0

    def step(self, ids: np.ndarray, residuals: np.ndarray, dims: np.ndarray, threshold: float = 0.9
             ) -> np.ndarray:
        """Score then learn one residual vector per (distinct) device; `residuals` is (len(ids), >= dims).

        Columns at or beyond a row's `dims` are ignored (padding), so devices with different metric counts
        share one call.
        """
        # work on the widest vector of this call only: dims beyond it are identity and cost nothing
        k = np.minimum(dims, self.max_dim).astype(np.float64)
        m = int(max(min(self.max_dim, residuals.shape[1], int(k.max()) if len(k) else 0), 1))
        r = np.clip(residuals[:, :m], -self.z_max, self.z_max).astype(np.float64)
        pad = np.arange(m)[None, :] >= k[:, None]
        r[pad] = 0.0  # padded dims: zero residual, identity covariance
        cov = self.cov[ids, :m, :m]
        # a ridge keeps C invertible when two metrics are (nearly) the same signal
        ridge = cov + 1e-3 * np.eye(m)
        d2 = np.einsum("ij,ij->i", r, np.linalg.solve(ridge, r[:, :, None])[:, :, 0])
        self.last_d2 = d2
        c = 2.0 / (9.0 * np.maximum(k, 1.0))
        z = (np.cbrt(np.maximum(d2, 0.0) / np.maximum(k, 1.0)) - (1.0 - c)) / np.sqrt(c)
        n = self.n[ids]
        score = np.where((n >= self.warmup) & (k >= 2), np.minimum(neg_log10_tail(z) / self.decades, 1.0), 0.0)
        w = np.where(score >= threshold, self.anomalous_weight, 1.0)
        a = (w * np.maximum(self.alpha, 1.0 / (n + 1.0)))[:, None, None]
        # start from the identity (residuals are already standardised) and move towards the observed moments
        cov = (1.0 - a) * cov + a * np.einsum("ij,ik->ijk", r, r)
        self.cov[ids, :m, :m] = np.where(pad[:, :, None] | pad[:, None, :], np.eye(m), cov)
        self.n[ids] = n + 1.0
        return score
