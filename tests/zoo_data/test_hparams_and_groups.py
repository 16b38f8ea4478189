"""Per-model hyperparameters and the training groups: functions of (config, id) only."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from zoo_builder.plan import select_groups
from zoo_builder.request import parse_models, parse_shard
from zoo_builder.train import model_key
from zoo_data.archive.layout import ZooLayout, training_groups
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import PRESETS, ZooConfig, get_preset

CONFIG = ZooConfig("groups-test", num_models=500, hidden=8, max_digits=1, steps=10,
                   n_test=20, n_train_pool=30, group_size=40)


def test_learning_rates_are_log_uniform_and_batch_sizes_uniform():
    hps = [model_hparams(CONFIG, i) for i in range(CONFIG.num_models)]
    log_lr = np.log10([h.learning_rate for h in hps])
    assert log_lr.min() >= -4 and log_lr.max() <= -2
    # log-uniform on [1e-4, 1e-2]: the decades [-4, -3) and [-3, -2] are equally likely
    assert 0.4 < np.mean(log_lr < -3) < 0.6
    assert abs(np.mean(log_lr) + 3) < 0.1
    counts = {bs: sum(h.batch_size == bs for h in hps) for bs in (64, 128, 256)}
    assert sum(counts.values()) == CONFIG.num_models
    assert all(120 < c < 215 for c in counts.values()), counts


def test_a_models_hyperparameters_and_key_depend_on_seed_and_id_only():
    bigger = dataclasses.replace(CONFIG, num_models=5000, group_size=7, steps=99)
    for i in (0, 17, 499):
        assert model_hparams(bigger, i) == model_hparams(CONFIG, i)
        np.testing.assert_array_equal(model_key(bigger, i), model_key(CONFIG, i))
    reseeded = dataclasses.replace(CONFIG, seed=1)
    assert model_hparams(reseeded, 3) != model_hparams(CONFIG, 3)
    assert not np.array_equal(model_key(reseeded, 3), model_key(CONFIG, 3))
    assert jax.random.key_data(model_key(CONFIG, 3)).shape == (2,)
    with pytest.raises(ValueError, match="model id 500"):
        model_hparams(CONFIG, 500)


def test_training_groups_partition_the_zoo_by_batch_size():
    groups = training_groups(CONFIG)
    ids = [i for g in groups for i in g.model_ids]
    assert sorted(ids) == list(range(CONFIG.num_models))
    assert [g.index for g in groups] == list(range(len(groups)))
    for g in groups:
        assert 0 < len(g.model_ids) <= CONFIG.group_size
        assert list(g.model_ids) == sorted(g.model_ids)
        assert {model_hparams(CONFIG, i).batch_size for i in g.model_ids} == {g.batch_size}
    # at most one partial group per batch size
    partial = [g for g in groups if len(g.model_ids) < CONFIG.group_size]
    assert len(partial) <= len(CONFIG.batch_sizes)
    assert training_groups(dataclasses.replace(CONFIG)) == groups


def test_shards_are_disjoint_and_cover_every_group():
    groups = training_groups(CONFIG)
    for n in (1, 2, 3, 5, len(groups), len(groups) + 3):
        slices = [select_groups(ZooLayout.of(CONFIG), shard=(i, n)) for i in range(n)]
        indices = [g.index for s in slices for g in s]
        assert sorted(indices) == list(range(len(groups)))
        assert max(len(s) for s in slices) - min(len(s) for s in slices) <= 1


def test_model_ranges_select_the_groups_holding_them():
    selected = select_groups(ZooLayout.of(CONFIG), models=(10, 20))
    ids = {i for g in selected for i in g.model_ids}
    assert set(range(10, 20)) <= ids
    assert all(any(10 <= i < 20 for i in g.model_ids) for g in selected)
    both = select_groups(ZooLayout.of(CONFIG), shard=(0, 2), models=(0, 100))
    assert all(g.index % 2 == 0 and min(g.model_ids) < 100 for g in both)


@pytest.mark.parametrize("text", ["", "1", "a/b", "2/2", "-1/3", "1/0", "0/2/3", "1 /2x"])
def test_malformed_shards_are_rejected(text):
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)


def test_shards_parse():
    assert parse_shard("0/1") == (0, 1) and parse_shard("3/4") == (3, 4)


@pytest.mark.parametrize("text", ["5", "a:b", "0:0", "10:5", "-1:4", "0:501", "500:"])
def test_bad_model_ranges_are_rejected(text):
    with pytest.raises(ValueError, match=r"models .*500|models .*a:b"):
        parse_models(text, 500)


def test_model_ranges_parse():
    assert parse_models("0:500", 500) == (0, 500)
    assert parse_models(":10", 500) == (0, 10)
    assert parse_models("490:", 500) == (490, 500)


def test_presets():
    assert set(PRESETS) == {"paper", "small-v2", "small", "mini", "tiny"}
    paper = get_preset("paper")
    assert (paper.num_models, paper.hidden, paper.max_digits) == (10_000, 128, 5)
    assert (paper.lr_min, paper.lr_max, paper.batch_sizes) == (1e-4, 1e-2, (64, 128, 256))
    assert 1500 <= get_preset("small").num_models <= 2500
    for config in PRESETS.values():
        assert ZooConfig.from_dict(config.to_dict()) == config
        assert config.n_test + config.n_train_pool <= 100**config.max_digits
    fingerprints = {c.fingerprint() for c in PRESETS.values()}
    assert len(fingerprints) == len(PRESETS)
    with pytest.raises(ValueError, match="unknown preset 'huge'.*paper"):
        get_preset("huge")


def test_committed_split_files_match_the_presets():
    """data/splits/ must not go stale when a preset changes (python -m zoo_data.rnn.presets)."""
    import json
    from pathlib import Path

    from zoo_data.archive.split_schemes import preset_split_file
    from zoo_data.rnn.presets import PRESETS

    folder = Path(__file__).resolve().parents[2] / "data" / "splits"
    for name, preset in PRESETS.items():
        assert json.loads((folder / f"{name}.json").read_text()) == preset_split_file(preset), name
