"""The calibration tool: per-checkpoint spreads, and resuming after an interruption."""

from __future__ import annotations

import json

import pytest

from scripts import zoo_calibration
from zoo_data.archive.layout import training_groups
from zoo_data.rnn.presets import ZooConfig

CONFIG = ZooConfig("calib-test", num_models=6, hidden=8, max_digits=1, steps=20, n_test=20,
                   n_train_pool=60, group_size=3, block_size=3, lr_min=3e-3, lr_max=3e-2)


@pytest.mark.slow  # 14 s on idle cores (a calibration script, not the product); suite budget
def test_calibration_resumes_from_its_partial_file(tmp_path, monkeypatch):
    full = zoo_calibration.calibrate(CONFIG, [10, 20])
    assert set(full["checkpoints"]) == {"10", "20"}
    assert [m["id"] for m in full["checkpoints"]["20"]["models"]] == list(range(6))

    partial = tmp_path / "calib.json.partial"
    real = zoo_calibration.train_group
    calls = []

    def interrupted_after_one(config, group, **kwargs):
        if calls:
            raise KeyboardInterrupt
        calls.append(group.index)
        return real(config, group, **kwargs)

    monkeypatch.setattr(zoo_calibration, "train_group", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        zoo_calibration.calibrate(CONFIG, [10, 20], partial)
    assert list(json.loads(partial.read_text())["groups"]) == [str(calls[0])]

    trained = []

    def counting(config, group, **kwargs):
        trained.append(group.index)
        return real(config, group, **kwargs)

    monkeypatch.setattr(zoo_calibration, "train_group", counting)
    resumed = zoo_calibration.calibrate(CONFIG, [10, 20], partial)
    assert calls[0] not in trained and len(trained) == len(training_groups(CONFIG)) - 1
    for c in ("10", "20"):
        assert resumed["checkpoints"][c]["models"] == full["checkpoints"][c]["models"]


@pytest.mark.slow  # 14 s on idle cores (a calibration script, not the product); suite budget
def test_a_decaying_schedule_takes_one_checkpoint_per_run():
    import dataclasses

    cosine = dataclasses.replace(CONFIG, lr_schedule="cosine")
    with pytest.raises(ValueError, match="one checkpoint per run"):
        zoo_calibration.calibrate(cosine, [10, 20])
    out = zoo_calibration.calibrate(cosine, [20])
    assert out["config"]["lr_schedule"] == "cosine" and set(out["checkpoints"]) == {"20"}
