"""Scores of a success-rate predictor: Kendall's tau-b, Spearman's rho, R², MAE.

Every function takes ``pred (n,)`` (predicted success rates) and ``actual (n,)`` (the
zoo's labels), 1-D, equally long, finite, ``n >= 2``; anything else is a
``ValueError`` naming the problem. Inputs are compared in float64.

- **Kendall's tau-b** (the benchmark's headline figure), over the ``n (n - 1) / 2``
  pairs ``i < j``::

      tau_b = (n_c - n_d) / sqrt((n_0 - n_p) (n_0 - n_a))

  with ``n_c`` / ``n_d`` the concordant / discordant pairs, ``n_0 = n (n - 1) / 2``,
  ``n_p`` the pairs tied in ``pred`` and ``n_a`` the pairs tied in ``actual`` (pairs
  tied in both count in both). Equal to ``scipy.stats.kendalltau``'s default.
- **Spearman's rho**: Pearson's correlation of the average ranks (ties share the mean
  of their ranks), as ``scipy.stats.spearmanr``.
- **R²**, the coefficient of determination of ``actual`` by ``pred`` (scikit-learn's
  ``r2_score(actual, pred)``)::

      R² = 1 - sum_i (actual_i - pred_i)² / sum_i (actual_i - mean(actual))²

  It is not symmetric and can be negative (worse than predicting the mean). When
  ``actual`` is constant the ratio is undefined and, as in scikit-learn, R² is 1.0 for
  a perfect prediction and 0.0 otherwise.
- **MAE**: ``mean_i |pred_i - actual_i|``.

Undefined correlations: when ``pred`` or ``actual`` is constant, tau-b and rho have a
zero denominator and are ``NaN`` (not 0): a constant prediction ranks nothing. Result
records store ``NaN`` as ``null`` and the leaderboard shows it as "undefined", sorted
last.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["METRIC_NAMES", "all_metrics", "kendall_tau", "mae", "r2", "spearman"]

#: The keys of :func:`all_metrics`' dict, in order.
METRIC_NAMES: tuple[str, ...] = ("kendall_tau", "spearman", "r2", "mae", "n")

# Rows of the pair-sign matrix evaluated at once by kendall_tau: bounds its memory to
# about _PAIR_BLOCK_ELEMENTS int8 entries per operand.
_PAIR_BLOCK_ELEMENTS = 1 << 22


def _check(pred, actual) -> tuple[np.ndarray, np.ndarray]:
    """``pred`` and ``actual`` as float64 ``(n,)`` arrays, checked (see the module)."""
    arrays = []
    for name, value in (("pred", pred), ("actual", actual)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}: not an array of numbers ({exc})") from None
        if arr.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D array, got shape {arr.shape}")
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(
                f"{name}: {bad.size} non-finite value(s), the first {arr[bad[0]]} at index "
                f"{int(bad[0])}"
            )
        arrays.append(arr)
    p, a = arrays
    if p.shape != a.shape:
        raise ValueError(f"pred has {p.size} values, actual has {a.size}: need equal lengths")
    if p.size < 2:
        raise ValueError(f"{p.size} value(s): need at least 2 to score")
    return p, a


def kendall_tau(pred, actual) -> float:
    """Kendall's tau-b of ``pred (n,)`` against ``actual (n,)`` (module docstring).

    Exact integer pair counts, ``O(n²)`` time in blocks of rows (about a second for
    ``n = 10,000``) and bounded memory. ``NaN`` if either input is constant.
    """
    p, a = _check(pred, actual)
    n = p.size
    block = max(1, _PAIR_BLOCK_ELEMENTS // n)
    s = tied_p = tied_a = 0  # over ordered pairs (i, j): each unordered pair twice
    for start in range(0, n, block):
        sp = np.sign(p[start : start + block, None] - p[None, :]).astype(np.int8)
        sa = np.sign(a[start : start + block, None] - a[None, :]).astype(np.int8)
        s += int(np.sum(sp * sa, dtype=np.int64))
        tied_p += int(np.count_nonzero(sp == 0))
        tied_a += int(np.count_nonzero(sa == 0))
    # tied_* include the diagonal i == j, so these are 2 (n_0 - n_p) and 2 (n_0 - n_a)
    untied_p = n * n - tied_p
    untied_a = n * n - tied_a
    if untied_p == 0 or untied_a == 0:
        return math.nan
    return float(s / math.sqrt(untied_p * untied_a))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks ``1..n`` of ``x``, ties given the mean of the ranks they span."""
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)  # rank of the last of each group of equal values
    return (ends - (counts - 1) / 2.0)[inverse]


def spearman(pred, actual) -> float:
    """Spearman's rho of ``pred (n,)`` against ``actual (n,)``: Pearson's correlation of
    their average ranks. ``NaN`` if either input is constant."""
    p, a = _check(pred, actual)
    rp = _average_ranks(p) - (p.size + 1) / 2.0
    ra = _average_ranks(a) - (a.size + 1) / 2.0
    denom = math.sqrt(float(np.dot(rp, rp)) * float(np.dot(ra, ra)))
    if denom == 0.0:
        return math.nan
    return float(np.clip(np.dot(rp, ra) / denom, -1.0, 1.0))


def r2(pred, actual) -> float:
    """Coefficient of determination of ``actual (n,)`` by ``pred (n,)``
    (``1 - SS_res / SS_tot``, scikit-learn's ``r2_score(actual, pred)``; module
    docstring for a constant ``actual``)."""
    p, a = _check(pred, actual)
    ss_res = float(np.sum((a - p) ** 2))
    ss_tot = float(np.sum((a - a.mean()) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def mae(pred, actual) -> float:
    """Mean absolute error ``mean_i |pred_i - actual_i|``."""
    p, a = _check(pred, actual)
    return float(np.mean(np.abs(p - a)))


def all_metrics(pred, actual) -> dict:
    """``{"kendall_tau", "spearman", "r2", "mae": float, "n": int}`` of ``pred``
    against ``actual`` (correlations may be ``NaN``, see the module docstring)."""
    _check(pred, actual)
    return {
        "kendall_tau": kendall_tau(pred, actual),
        "spearman": spearman(pred, actual),
        "r2": r2(pred, actual),
        "mae": mae(pred, actual),
        "n": int(np.asarray(pred).shape[0]),
    }
