"""Confidence intervals and paired comparisons of test Kendall's tau: the resampled
statistic is exact, the interval covers the true tau about 95% of the time, and a
clearly better predictor is told apart from an equal one."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.metrics import kendall_tau
from benchmarks.significance import TauResampler, compare, tau_interval


def test_the_resampled_statistic_is_the_mean_tau_of_the_resampled_arrays():
    rng = np.random.default_rng(0)
    actual = np.round(rng.random(40), 1)  # ties in the labels
    predicted = np.stack([actual + rng.normal(0, 0.2, 40) for _ in range(3)])
    predicted[1, :5] = 0.5  # ties in a prediction
    resampler = TauResampler(predicted, actual)
    for idx in rng.integers(0, 40, (5, 40)):
        expected = np.mean([kendall_tau(p[idx], actual[idx]) for p in predicted])
        assert resampler(idx[None])[0] == pytest.approx(expected, abs=1e-12)
    assert resampler(np.arange(40)[None])[0] == pytest.approx(
        np.mean([kendall_tau(p, actual) for p in predicted]), abs=1e-12)


def test_the_interval_covers_the_true_tau_about_95_percent_of_the_time():
    """Bivariate normal with correlation rho: tau = 2 / pi * arcsin(rho)."""
    rho, n, repeats = 0.7, 80, 120
    true_tau = 2 / np.pi * np.arcsin(rho)
    rng = np.random.default_rng(1)
    covered = 0
    for _ in range(repeats):
        x = rng.standard_normal(n)
        y = rho * x + np.sqrt(1 - rho**2) * rng.standard_normal(n)
        low, high = tau_interval(y[None], x, resamples=400)
        covered += low <= true_tau <= high
    assert 0.88 <= covered / repeats <= 0.99, covered


def test_a_clearly_better_predictor_is_significant_and_an_equal_one_is_not():
    rng = np.random.default_rng(2)
    actual = rng.random(200)
    good = np.stack([actual + rng.normal(0, 0.05, 200) for _ in range(5)])
    poor = np.stack([actual + rng.normal(0, 0.5, 200) for _ in range(5)])
    better = compare(good, poor, actual)
    assert better.difference > 0.3 and better.significant and better.low > 0
    assert compare(poor, good, actual).high < 0
    # the same ranking (a monotone transform of the same predictions) is no better
    same = compare(good, 0.5 * good + 0.1, actual)
    assert same.difference == 0 and not same.significant


def test_undefined_taus_have_no_interval():
    actual = np.linspace(0, 1, 10)
    assert tau_interval(np.full((2, 10), 0.3), actual) is None
    assert compare(np.full((1, 10), 0.3), actual[None], actual) is None


def test_rows_of_one_model_are_resampled_together():
    """Each model's checkpoints as identical rows: resampling models gives exactly the
    interval of the models themselves (tau-b is unchanged by duplicating every
    observation), while resampling rows would pretend to 4 times the data."""
    rng = np.random.default_rng(5)
    actual = rng.uniform(size=40)
    predicted = actual + rng.normal(scale=0.3, size=(3, 40))
    dup_actual, dup_predicted = np.repeat(actual, 4), np.repeat(predicted, 4, axis=1)
    clusters = np.repeat(np.arange(100, 140), 4)
    plain = tau_interval(predicted, actual)
    clustered = tau_interval(dup_predicted, dup_actual, clusters=clusters)
    rows = tau_interval(dup_predicted, dup_actual)
    np.testing.assert_allclose(clustered, plain, atol=1e-6)
    assert rows[1] - rows[0] < 0.75 * (plain[1] - plain[0])
    other = predicted[::-1] + 0.1
    a = compare(predicted, other, actual)
    b = compare(dup_predicted, np.repeat(other, 4, axis=1), dup_actual, clusters=clusters)
    np.testing.assert_allclose([b.difference, b.low, b.high], [a.difference, a.low, a.high],
                               atol=1e-6)
