"""weights_gap: builds a sample zoo, runs the methods under the protocol, resumes."""

from __future__ import annotations

import json

import pytest

from scripts.weights_gap import weights_gap
from zoo_data.rnn.presets import ZooConfig

SAMPLE = ZooConfig("gap-test", num_models=30, hidden=16, max_digits=1, steps=100, n_test=20,
                   n_train_pool=60, group_size=15, block_size=5, batch_sizes=(64,),
                   lr_min=3e-3, lr_max=3e-2, checkpoints=(50, 100), weight_decay=(1e-3, 0.1))


def test_the_gap_is_the_best_weight_space_mean_minus_hparams(tmp_path):
    partial = tmp_path / "gap.json.partial"
    out = weights_gap(SAMPLE, tmp_path / "zoo", ("hparams", "linear-stats"), seeds=1,
                      partial=partial)
    assert out["rows"] == 60 and out["test_rows"] == 6
    taus = out["mean_test_tau"]
    assert out["best_weight_space"] == "linear-stats"
    assert out["gap_vs_hparams"] == pytest.approx(taus["linear-stats"] - taus["hparams"])
    saved = json.loads(partial.read_text())
    assert set(saved["taus"]) == {"hparams/0", "linear-stats/0"}
    # a re-run takes the saved seeds instead of training again
    saved["taus"]["hparams/0"] = 0.123
    partial.write_text(json.dumps(saved))
    again = weights_gap(SAMPLE, tmp_path / "zoo", ("hparams", "linear-stats"), seeds=1,
                        partial=partial)
    assert again["mean_test_tau"]["hparams"] == 0.123
