"""Metrics: Kendall's tau-b, Spearman's rho, R² and MAE against hand-computed values and
scipy, ties included; undefined correlations; strict input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from benchmarks import metrics
from benchmarks.metrics import METRIC_NAMES, all_metrics, kendall_tau, mae, r2, spearman

# (pred, actual, tau-b by hand, rho by hand)
HAND_CASES = [
    # pairs: 5 concordant, 1 discordant (2,3): tau = 4/6; d = (0,1,1,0): rho = 1 - 6*2/60
    ([1, 2, 3, 4], [1, 3, 2, 4], 4 / 6, 0.8),
    # ties: pred ties pair (0,1), actual ties pair (1,2); 4 concordant, 0 discordant:
    # tau_b = 4 / sqrt((6-1)(6-1)); centred ranks (-1,-1,.5,1.5) and (-1.5,0,0,1.5):
    # rho = 3.75 / sqrt(4.5 * 4.5)
    ([1, 1, 2, 3], [1, 2, 2, 3], 0.8, 3.75 / 4.5),
    ([0.1, 0.2, 0.3], [0.9, 0.5, 0.1], -1.0, -1.0),
    ([0.3, 0.1], [0.0, 1.0], -1.0, -1.0),
]


@pytest.mark.parametrize("pred,actual,tau,rho", HAND_CASES)
def test_hand_computed_cases_and_scipy(pred, actual, tau, rho) -> None:
    assert kendall_tau(pred, actual) == pytest.approx(tau, abs=1e-12)
    assert spearman(pred, actual) == pytest.approx(rho, abs=1e-12)
    assert kendall_tau(pred, actual) == pytest.approx(
        scipy.stats.kendalltau(pred, actual).statistic, abs=1e-12)
    assert spearman(pred, actual) == pytest.approx(
        scipy.stats.spearmanr(pred, actual).statistic, abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n,levels", [(2, 0), (3, 0), (25, 4), (200, 21), (300, 0)])
def test_random_cases_match_scipy(seed, n, levels) -> None:
    """``levels > 0``: values drawn from that many levels (many ties, like k/n_test SRs)."""
    rng = np.random.default_rng([seed, n])
    if levels:
        actual = rng.integers(0, levels, n) / (levels - 1)
        pred = np.clip(actual + rng.normal(0, 0.3, n), 0, 1).round(1)
    else:
        actual = rng.random(n)
        pred = actual + rng.normal(0, 0.5, n)
    want_tau = scipy.stats.kendalltau(pred, actual).statistic
    want_rho = scipy.stats.spearmanr(pred, actual).statistic
    if np.isnan(want_tau):  # a constant draw: both must agree it is undefined
        assert math.isnan(kendall_tau(pred, actual))
    else:
        assert kendall_tau(pred, actual) == pytest.approx(want_tau, abs=1e-12)
        assert spearman(pred, actual) == pytest.approx(want_rho, abs=1e-12)


def test_kendall_tau_is_exact_across_row_blocks(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    actual = rng.integers(0, 7, 257).astype(float)
    pred = actual + rng.integers(-2, 3, 257)
    want = kendall_tau(pred, actual)
    monkeypatch.setattr(metrics, "_PAIR_BLOCK_ELEMENTS", 257 * 5)  # blocks of 5 rows
    assert kendall_tau(pred, actual) == want
    assert want == pytest.approx(scipy.stats.kendalltau(pred, actual).statistic, abs=1e-12)


def test_correlations_are_symmetric_r2_is_not() -> None:
    """tau-b and rho are symmetric in their two arguments; R² is not."""
    a, b = [0.1, 0.5, 0.2, 0.9], [0.0, 0.4, 0.6, 1.0]
    assert kendall_tau(a, b) == kendall_tau(b, a)
    assert spearman(a, b) == spearman(b, a)
    assert r2(a, b) != r2(b, a)


@pytest.mark.parametrize("pred,actual", [
    ([0.5, 0.5, 0.5], [0.1, 0.2, 0.3]),   # constant prediction ranks nothing
    ([0.1, 0.2, 0.3], [0.4, 0.4, 0.4]),   # constant labels
])
def test_constant_input_gives_undefined_correlations(pred, actual) -> None:
    assert math.isnan(kendall_tau(pred, actual))
    assert math.isnan(spearman(pred, actual))
    assert math.isnan(scipy.stats.kendalltau(pred, actual).statistic)


def test_r2_by_hand() -> None:
    actual = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert r2([1.0, 2.0, 3.0, 5.0], actual) == pytest.approx(1 - 1 / 5)   # SS_res 1
    assert r2([2.0, 2.0, 2.0, 2.0], actual) == pytest.approx(1 - 6 / 5)   # SS_res 6
    assert r2([2.5, 2.5, 2.5, 2.5], actual) == pytest.approx(0.0)         # the mean
    assert r2(actual, actual) == 1.0
    # constant labels: 1.0 for a perfect prediction, 0.0 otherwise (scikit-learn)
    assert r2([0.3, 0.3], [0.3, 0.3]) == 1.0
    assert r2([0.3, 0.4], [0.3, 0.3]) == 0.0


def test_mae_by_hand() -> None:
    assert mae([1.0, 2.0, 3.0, 5.0], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.25)
    assert mae([0.0, 1.0], [1.0, 0.0]) == pytest.approx(1.0)


def test_all_metrics_keys_and_values() -> None:
    pred, actual = [1, 2, 3, 4], [1, 3, 2, 4]
    out = all_metrics(np.array(pred, np.float32), actual)
    assert tuple(out) == METRIC_NAMES
    assert out["n"] == 4 and isinstance(out["n"], int)
    assert out["kendall_tau"] == pytest.approx(4 / 6)
    assert out["spearman"] == pytest.approx(0.8)
    assert out["r2"] == pytest.approx(r2(pred, actual))
    assert out["mae"] == pytest.approx(0.5)
    assert all(isinstance(out[k], float) for k in METRIC_NAMES[:-1])


@pytest.mark.parametrize("pred,actual,message", [
    ([0.1, 0.2, 0.3], [0.1, 0.2], "pred has 3 values, actual has 2"),
    ([[0.1, 0.2], [0.3, 0.4]], [[0.1, 0.2], [0.3, 0.4]], "1-D"),
    ([0.1, float("nan"), 0.3], [0.1, 0.2, 0.3], "pred: 1 non-finite value"),
    ([0.1, 0.2, 0.3], [0.1, float("inf"), 0.3], "actual: 1 non-finite value"),
    ([0.1], [0.2], "need at least 2"),
    ([], [], "need at least 2"),
    (["a", "b"], [0.1, 0.2], "pred: not an array of numbers"),
    (0.5, 0.5, "1-D"),
])
@pytest.mark.parametrize("fn", [kendall_tau, spearman, r2, mae, all_metrics])
def test_bad_inputs_are_value_errors_naming_the_problem(fn, pred, actual, message) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        fn(pred, actual)
