"""The learning-rate probe: answer-position report and a tiny end-to-end probe."""

from __future__ import annotations

import numpy as np

from scripts import lr_probe
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.task import EOS, PAD


def test_position_report_counts_first_errors_and_ignores_padding():
    answer = np.array([[1, 2, EOS, PAD], [3, EOS, PAD, PAD], [4, 5, 6, EOS]])
    preds = np.array([[1, 2, EOS, 7],      # right (padding position ignored)
                      [3, 9, 9, 9],        # wrong at position 1
                      [0, 5, 0, EOS]])     # wrong at 0 (and 2): first error 0
    report = lr_probe.position_report(preds, answer)
    assert report["sr"] == 1 / 3
    assert report["first_error_at"] == [1, 1, 0, 0]
    np.testing.assert_allclose(report["position_accuracy"], [2 / 3, 2 / 3, 2 / 3, 1.0],
                               atol=1e-4)


def test_probe_trains_the_chosen_learning_rates():
    config = ZooConfig("probe-test", num_models=1, hidden=8, max_digits=1, steps=1, n_test=20,
                       n_train_pool=60, group_size=1)
    out = lr_probe.probe(config, batch_size=16, lrs=[1e-3, 3e-2], checkpoints=[5, 30])
    assert set(out["sr_at"]) == {"5", "30"} and all(len(v) == 2 for v in out["sr_at"].values())
    assert [p["lr"] for p in out["positions"]] == [1e-3, 3e-2]
    # the greedy decoder of the report agrees with the builder's own SR
    np.testing.assert_allclose([p["sr"] for p in out["positions"]], out["sr_at"]["30"],
                               atol=1e-6)
    assert out["config"]["steps"] == 30 and out["batch_size"] == 16
