"""Confidence intervals of test Kendall's tau and paired comparisons between methods.

Both resample the **test models** (the unit a benchmark generalises over), pooled over
seeds: a resample draws ``n`` of the ``n`` test models with replacement, and the
statistic is the mean over seeds of each seed's tau-b on that resample, so seed-to-seed
variation and the finite test set both widen the interval. The resampling and the
percentile interval are ``scipy.stats.bootstrap``'s (``method="percentile"``, a fixed
``rng`` seed, so the same inputs give the same interval).

The statistic is evaluated exactly and for many resamples at once: a resample is a count
vector ``c`` (how often each test model was drawn), and with the pair matrices of the
full test set, ``S = sign(p_i - p_j) sign(a_i - a_j)``, ``Zp = [p_i = p_j]``,
``Za = [a_i = a_j]``, the tau-b of the resampled arrays (``benchmarks.metrics``'s
definition, duplicates tied in both) is::

    tau_b(c) = c^T S c / sqrt((N^2 - c^T Zp c) (N^2 - c^T Za c)),   N = sum(c)

A matrix product per seed and batch of resamples instead of one O(n log n) call per
resample and seed; float32 is exact here (integer sums below 2^24 for n <= 4,096).

In a zoo with checkpoints a test model contributes several rows (its checkpoints), which
are not independent draws: the resampled unit is then the model, not the row
(``clusters``: each row's model). A resample draws ``m`` of the ``m`` test models with
replacement and every row of a drawn model gets its model's count, so the count vector
above is ``c_row = c_model[cluster(row)]``: a cluster bootstrap, otherwise unchanged.

- :func:`tau_interval`: the 95% interval of one method's mean test tau.
- :func:`compare`: the paired difference ``tau(A) - tau(B)`` on the same resamples of
  the same test models, its 95% interval, and whether it excludes 0 (significant at 5%).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.stats

__all__ = ["LEVEL", "RESAMPLES", "TauResampler", "tau_interval", "Comparison", "compare"]

#: Confidence level of every interval.
LEVEL = 0.95
#: Bootstrap resamples per interval.
RESAMPLES = 2000
_SEED = 0
_BATCH = 200


class TauResampler:
    """The mean over seeds of tau-b on resamples of the test models (module docstring).

    Args:
      predicted: ``(S, n)`` predictions of ``S`` seeds on the ``n`` test rows.
      actual: ``(n,)`` the test labels.
      clusters: ``(n,)`` the resampled unit of each row (its model, in a zoo with
        checkpoints), any integer labels; ``None``: every row is its own unit. Resample
        indices then index the ``units`` distinct labels in ascending order.
    """

    def __init__(self, predicted: np.ndarray, actual: np.ndarray,
                 clusters: np.ndarray | None = None) -> None:
        predicted = np.atleast_2d(np.asarray(predicted, np.float64))
        actual = np.asarray(actual, np.float64)
        if predicted.shape[1] != actual.shape[0] or actual.ndim != 1:
            raise ValueError(f"predictions {predicted.shape} do not match labels "
                             f"{actual.shape}")
        if actual.size > 4096:
            raise ValueError(f"{actual.size} test models: the exact float32 sums need "
                             "n <= 4,096")
        self.n = actual.size
        if clusters is None:
            unit_of_row = np.arange(self.n)
        else:
            clusters = np.asarray(clusters)
            if clusters.shape != actual.shape:
                raise ValueError(f"clusters {clusters.shape} do not match labels "
                                 f"{actual.shape}")
            _, unit_of_row = np.unique(clusters, return_inverse=True)
        self.units = int(unit_of_row.max()) + 1
        # the pair matrices summed over the rows of each unit (U^T M U, U the rows' unit
        # indicator): a resample's sums over its rows are those over its units weighted by
        # the unit counts, so the products below are units x units, not rows x rows. All
        # entries are small integers: the float32 sums are exact, as over rows
        one_hot = np.zeros((self.n, self.units))
        one_hot[np.arange(self.n), unit_of_row] = 1.0

        def by_unit(matrix: np.ndarray) -> np.ndarray:
            return (one_hot.T @ matrix @ one_hot).astype(np.float32)

        sa = np.sign(actual[:, None] - actual[None, :])
        self._za = by_unit(sa == 0)
        self._s, self._zp = [], []
        for p in predicted:
            sp = np.sign(p[:, None] - p[None, :])
            self._s.append(by_unit(sp * sa))
            self._zp.append(by_unit(sp == 0))
        self._rows_per_unit = one_hot.sum(axis=0)

    def __call__(self, idx: np.ndarray, axis: int = -1) -> np.ndarray:
        """Mean tau over seeds for each resample ``idx (..., m)`` of unit indices in
        ``0 .. units-1`` (test rows, or models with ``clusters``; any ``m``); ``NaN``
        where a seed's resampled predictions or labels are constant."""
        idx = np.moveaxis(np.asarray(idx), axis, -1)
        lead = idx.shape[:-1]
        flat = idx.reshape(-1, idx.shape[-1])
        counts = np.zeros((flat.shape[0], self.units), np.float32)
        np.add.at(counts, (np.repeat(np.arange(flat.shape[0]), flat.shape[1]), flat.ravel()),
                  1.0)
        total = (counts.astype(np.float64) @ self._rows_per_unit) ** 2
        untied_a = total - np.einsum("rn,rn->r", counts @ self._za, counts)
        taus = []
        for s, zp in zip(self._s, self._zp, strict=True):
            num = np.einsum("rn,rn->r", counts @ s, counts).astype(np.float64)
            untied_p = total - np.einsum("rn,rn->r", counts @ zp, counts)
            with np.errstate(invalid="ignore", divide="ignore"):
                taus.append(num / np.sqrt(untied_p * untied_a))
        return np.mean(taus, axis=0).reshape(lead)


def _bootstrap(statistic, n: int, resamples: int) -> tuple[float, float] | None:
    """The percentile interval of ``statistic`` over resamples of ``n`` test models;
    ``None`` when it is undefined (every resample NaN or degenerate)."""
    with warnings.catch_warnings():
        # a resample can hold one distinct model, whose tau is undefined: such resamples
        # are NaN, and scipy warns before returning NaN limits, which we report as None
        warnings.simplefilter("ignore", scipy.stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = scipy.stats.bootstrap(
            (np.arange(n),), statistic, vectorized=True, batch=_BATCH,
            n_resamples=resamples, confidence_level=LEVEL, method="percentile",
            rng=np.random.default_rng(_SEED))
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return float(low), float(high)


def tau_interval(predicted: np.ndarray, actual: np.ndarray,
                 resamples: int = RESAMPLES,
                 clusters: np.ndarray | None = None) -> tuple[float, float] | None:
    """The 95% percentile-bootstrap interval ``(low, high)`` of the mean test tau of
    ``predicted (S, n)`` against ``actual (n,)``, resampling ``clusters`` (each row's
    model) when given; ``None`` when tau is undefined (a constant prediction) or fewer
    than 3 test units."""
    if np.asarray(actual).size < 3:
        return None
    resampler = TauResampler(predicted, actual, clusters)
    if resampler.units < 3:
        return None
    full = resampler(np.arange(resampler.units)[None])[0]
    if not np.isfinite(full):
        return None
    return _bootstrap(resampler, resampler.units, resamples)


@dataclass(frozen=True)
class Comparison:
    """``difference``: mean test tau of A minus B on the full test set; ``low``/``high``:
    its paired 95% interval; ``significant``: the interval excludes 0."""

    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def compare(predicted_a: np.ndarray, predicted_b: np.ndarray, actual: np.ndarray,
            resamples: int = RESAMPLES,
            clusters: np.ndarray | None = None) -> Comparison | None:
    """The paired comparison of methods A and B (``(S_a, n)``, ``(S_b, n)`` predictions
    on the same ``n`` test rows, in the same order) by bootstrap over the test models
    (``clusters``: each row's model, when a model has several rows); ``None`` if either
    tau is undefined or fewer than 3 test units."""
    if np.asarray(actual).size < 3:
        return None
    a, b = TauResampler(predicted_a, actual, clusters), TauResampler(predicted_b, actual,
                                                                     clusters)
    if a.units < 3:
        return None
    everything = np.arange(a.units)[None]
    difference = float(a(everything)[0] - b(everything)[0])
    if not np.isfinite(difference):
        return None

    def statistic(idx, axis=-1):
        return a(idx, axis) - b(idx, axis)

    interval = _bootstrap(statistic, a.units, resamples)
    if interval is None:
        return None
    return Comparison(difference, *interval)
