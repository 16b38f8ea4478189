"""The training budget of the paper's script: epochs of several passes, early stopping
on validation tau, many steps per compiled call, test curves scored after training, and
a board that keeps protocols apart and shows learning curves."""

from __future__ import annotations

import json

import flax.linen as nn
import numpy as np
import pytest

import benchmarks.protocol as protocol
from benchmarks import ProtocolConfig, run_protocol
from benchmarks.bench import run_benchmark
from benchmarks.board import best_at_last_eval, leaderboard_frame
from benchmarks.curves import running_max
from benchmarks.leaderboard import write_leaderboard
from benchmarks.protocol_config import budget_text, default_protocol
from benchmarks.results import read_results
from predictors.base import Predictor
from predictors.statnn import STATNN
from zoo_data.errors import TinyZooError


class FlatKernel(Predictor):
    """A small predictor whose features are not cached: one weight tensor, flattened,
    into a linear layer (cheap to compile, unlike the built-in weight-space nets)."""

    name = "flat-kernel"

    def features(self, params, spec):
        w = params["GRUCell_0"]["hn"]["kernel"]
        return np.asarray(w).reshape(w.shape[0], -1)

    def module(self, spec):
        return nn.Dense(1)


def test_the_default_budget_is_the_paper_scripts_and_small_zoos_keep_a_short_one():
    paper = default_protocol("small-v2")
    assert (paper.epochs, paper.passes_per_epoch, paper.patience) == (10, 10, 3)
    assert paper.passes == 100 and paper == ProtocolConfig()
    mini = default_protocol("mini")
    assert (mini.passes, mini.passes_per_epoch, mini.patience) == (10, 1, None)
    assert default_protocol("small", patience=0).patience is None  # --patience 0
    assert default_protocol("mini", epochs=3, batch_size=4).passes == 3
    assert paper.budget_text() == "100 passes (10 evaluations, every 10 passes), patience 3"
    assert mini.budget_text() == "10 passes (10 evaluations, after every pass), " \
                                 "no early stopping"
    old = {"epochs": 10, "batch_size": 10}  # a record made before budgets were recorded
    assert budget_text(old) == mini.budget_text()
    assert budget_text(None) == "no protocol (a scored prediction file)"


@pytest.mark.parametrize("settings, message", [
    ({"passes_per_epoch": 0}, "passes_per_epoch 0: need at least 1"),
    ({"patience": -1}, "patience -1: need at least 1"),
])
def test_a_bad_budget_is_refused(settings, message):
    with pytest.raises(TinyZooError, match=message):
        ProtocolConfig(**settings)


def test_training_stops_once_patience_epochs_bring_nothing_better(bench_zoo_dir,
                                                                 monkeypatch):
    scripted = iter([0.10, 0.30, 0.20, 0.25, 0.90, 0.95])
    real = protocol.kendall_tau
    monkeypatch.setattr(protocol, "kendall_tau", lambda p, a: next(scripted))
    config = ProtocolConfig(epochs=6, passes_per_epoch=1, patience=2, batch_size=8)
    result = run_protocol(STATNN(), str(bench_zoo_dir), seed=0, config=config,
                          score=False)
    monkeypatch.setattr(protocol, "kendall_tau", real)
    assert result.val_tau_per_epoch == [0.10, 0.30, 0.20, 0.25]  # stopped: 2 past epoch 2
    assert (result.best_epoch, result.epochs_run) == (2, 4)
    assert len(result.test_predicted_per_epoch) == 4
    # the selected epoch's test predictions are the ones the run reports
    np.testing.assert_array_equal(result.test_predicted_per_epoch[1], result.test_predicted)


def test_passes_follow_one_sequence_whatever_the_epochs(bench_zoo_dir):
    """Pass k is ordered by default_rng([seed, k]): one epoch of two passes trains
    exactly as two epochs of one pass."""
    one = run_protocol(FlatKernel(), str(bench_zoo_dir), seed=1,
                       config=ProtocolConfig(epochs=1, passes_per_epoch=2, patience=None,
                                             batch_size=8))
    two = run_protocol(FlatKernel(), str(bench_zoo_dir), seed=1,
                       config=ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None,
                                             batch_size=8))
    np.testing.assert_array_equal(one.test_predicted_per_epoch[-1],
                                  two.test_predicted_per_epoch[-1])
    assert one.to_record()["passes_run"] == two.to_record()["passes_run"] == 2


def test_resident_features_in_one_scan_train_as_streamed_steps(bench_zoo_dir, monkeypatch):
    config = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)
    resident = run_protocol(FlatKernel(), str(bench_zoo_dir), seed=0, config=config)
    monkeypatch.setattr(protocol, "RESIDENT_BYTES", 0)  # stream every batch instead
    streamed = run_protocol(FlatKernel(), str(bench_zoo_dir), seed=0, config=config)
    np.testing.assert_allclose(resident.test_predicted, streamed.test_predicted,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(resident.train_loss_per_epoch, streamed.train_loss_per_epoch,
                               rtol=1e-5)


def test_records_state_the_budget_and_the_test_curve(bench_zoo_dir, tmp_path):
    config = ProtocolConfig(epochs=3, passes_per_epoch=2, patience=None, batch_size=8)
    record, _ = run_benchmark("statnn", bench_zoo_dir, seeds=2, config=config,
                              results_dir=tmp_path / "results", progress=False,
                              audit=False, log=None)
    assert record["protocol"]["passes"] == 6 and record["protocol"]["patience"] is None
    for run in record["runs"]:
        assert run["passes_run"] == 6 and run["best_pass"] == 2 * run["best_epoch"]
        assert len(run["test_tau_per_epoch"]) == 3
        assert run["test_tau_per_epoch"][run["best_epoch"] - 1] == pytest.approx(
            run["test"]["kendall_tau"])
    maxima = [max(run["test_tau_per_epoch"]) for run in record["runs"]]
    assert running_max(record) == pytest.approx(np.mean(maxima))
    expected = sum(run["best_epoch"] == 3 for run in record["runs"])
    assert best_at_last_eval(record) == expected


def test_a_zoo_under_two_protocols_gets_two_tables_and_learning_curves(bench_zoo_dir,
                                                                      tmp_path):
    results = tmp_path / "results"
    short = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)
    longer = ProtocolConfig(epochs=3, passes_per_epoch=2, patience=1, batch_size=8)
    for method, config in (("statnn", longer), ("linear-stats", longer),
                           ("hparams", short)):
        run_benchmark(method, bench_zoo_dir, seeds=1, config=config, results_dir=results,
                      progress=False, audit=False, log=None)
    frame = leaderboard_frame(read_results(results))
    tables = frame.groupby(["zoo", "protocol"], sort=False).groups
    assert list(tables) == [(frame["zoo"][0], longer.budget_text()),
                            (frame["zoo"][0], short.budget_text())]
    report = write_leaderboard(results, tmp_path / "board")
    text = report.markdown.read_text()
    assert text.count("## bench-test") == 2
    assert f"Protocol: {longer.budget_text()}. [Learning curves](curves/" in text
    curves = sorted((tmp_path / "board" / "curves").glob("*.png"))
    assert [p.name for p in curves] == [f"{frame['zoo'][0]}-1.png", f"{frame['zoo'][0]}.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in curves)
    html = report.html.read_text()
    assert html.count("Learning curves</a>") == 2 and "test τ max" in html
    csv = report.csv.read_text().splitlines()[0].split(",")
    assert {"protocol", "best_at_last_eval", "running_max_test_tau", "curves"} <= set(csv)
    records = {r["method"]: r for r in read_results(results)}
    assert json.dumps(records["statnn"]["protocol"]["patience"]) == "1"
