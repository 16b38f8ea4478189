"""The two analyses beside the board: the closed-form metadata fit and the paper
script's running maximum of test tau."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.metrics import kendall_tau
from scripts import metadata_fit, running_max
from zoo_data.zoo import open_local_zoo


def test_metadata_fit_is_the_least_squares_cubic(bench_zoo_dir, tmp_path):
    out = tmp_path / "fit.json"
    assert metadata_fit.main([str(bench_zoo_dir), "--json", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    zoo = open_local_zoo(bench_zoo_dir)
    train, test = zoo.with_split("train"), zoo.with_split("test")

    def design(z):
        lr = np.log(z.metadata["learning_rate"].to_numpy())
        bs = np.log(z.metadata["batch_size"].to_numpy())
        return np.column_stack([np.ones_like(lr), lr, lr**2, lr**3, bs, lr * bs])

    coef = np.linalg.lstsq(design(train), train.labels, rcond=None)[0]
    assert row["lstsq_cubic_tau"] == pytest.approx(kendall_tau(design(test) @ coef,
                                                               test.labels))
    assert row["minus_train_loss_tau"] == pytest.approx(
        kendall_tau(-test.metadata["train_loss"].to_numpy(), test.labels))


def test_running_max_is_never_below_the_val_selected_tau(bench_zoo_dir):
    out = running_max.running_max(str(bench_zoo_dir), "linear-stats", seeds=2, epochs=3)
    for run in out["runs"]:
        assert len(run["test_tau_per_epoch"]) == 3
        assert run["running_max_test_tau"] == max(run["test_tau_per_epoch"])
        assert run["val_selected_test_tau"] == pytest.approx(
            run["test_tau_per_epoch"][run["best_epoch"] - 1])
    assert out["running_max"]["mean"] >= out["val_selected"]["mean"]
