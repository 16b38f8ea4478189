"""Checkpoints and per-model variations: a checkpoint row is the run's weights at that
step (bitwise), every checkpoint of a model stays in its split, every new
hyperparameter is a pure function of (seed, id), and zoos without either still load."""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo_builder.build import build_zoo
from zoo_builder.programs import group_programs, varied_inputs
from zoo_builder.train import model_key
from zoo_data.archive.layout import training_groups
from zoo_data.archive.splits import SPLITS, split_ranges
from zoo_data.errors import TinyZooError
from zoo_data.export import export_npz
from zoo_data.rnn.hparams import model_hparams, sampled_hyperparameters, training_subset
from zoo_data.rnn.presets import VARIATIONS, ZooConfig, get_preset, problem_sets
from zoo_data.zoo import load_zoo

#: 12 models of hidden 8, 4 checkpoints, every variation, a cosine schedule (so that a
#: checkpoint read with the schedule of a shorter run would differ).
#: One batch size: one compiled program for the whole zoo keeps the module fast.
CKPT = ZooConfig("ckpt-test", num_models=12, hidden=8, max_digits=1, steps=80, n_test=20,
                 n_train_pool=60, group_size=6, block_size=3, lr_min=3e-3, lr_max=3e-2,
                 batch_sizes=(64,),
                 lr_schedule="cosine", checkpoints=(20, 40, 60, 80),
                 init_scale=(0.5, 2.0), weight_decay=(1e-3, 1.0), data_fraction=(0.3, 1.0),
                 adam_b1=(0.5, 0.95), clip_norm=(0.1, 10.0), recipe=2)


@pytest.fixture(scope="module")
def ckpt_zoo(tmp_path_factory):
    zoo_dir = tmp_path_factory.mktemp("ckpt") / "zoo"
    report = build_zoo(zoo_dir, CKPT, progress=False)
    assert report.complete
    return zoo_dir


def test_a_zoo_has_one_row_per_model_and_checkpoint(ckpt_zoo):
    zoo = load_zoo(ckpt_zoo)
    meta = zoo.metadata
    assert len(zoo) == CKPT.num_rows == 48
    np.testing.assert_array_equal(meta.index, np.arange(48))
    np.testing.assert_array_equal(meta["run_id"], np.repeat(np.arange(12), 4))
    np.testing.assert_array_equal(meta["step"], np.tile([20, 40, 60, 80], 12))
    for name in sampled_hyperparameters(CKPT):
        values = meta[name].to_numpy().reshape(12, 4)
        assert (values == values[:, :1]).all(), name  # one value per model
        expected = [getattr(model_hparams(CKPT, r), name) for r in range(12)]
        np.testing.assert_array_equal(values[:, 0], expected)
    # labels differ between checkpoints of one run: they are each measured
    assert len(np.unique(meta["train_loss"].to_numpy())) == 48


def test_checkpoint_rows_are_the_runs_weights_at_that_step(ckpt_zoo):
    """Replay group 0 step by step in chunks unlike the build's and compare bitwise."""
    zoo = load_zoo(ckpt_zoo)
    group = training_groups(CKPT)[0]
    programs = group_programs(CKPT, group.batch_size)
    m = len(group.model_ids)
    hps = [model_hparams(CKPT, i) for i in group.model_ids]
    _, pool = problem_sets(CKPT)
    keys = np.stack([np.asarray(model_key(CKPT, i)) for i in group.model_ids])
    params, opt = programs.init(keys, [h.init_scale for h in hps])
    lrs = programs.to_blocks(np.asarray([h.learning_rate for h in hps], np.float32))
    block_keys = programs.to_blocks(keys)
    varied = {k: programs.to_blocks(v) for k, v in varied_inputs(CKPT, hps, len(pool)).items()}
    pool_arrays = [jnp.asarray(a, jnp.int32) for a in (pool.question, pool.decoder_input,
                                                         pool.answer)]
    done = 0
    for k, step in enumerate(CKPT.checkpoints):
        params, opt, _ = programs.train_chunk(params, opt, lrs, block_keys, done,
                                              *pool_arrays, varied, length=step - done)
        done = step
        flat = {"/".join(p.key for p in path): programs.from_blocks(x, m)
                for path, x in jax.tree_util.tree_leaves_with_path(params)}
        rows = [r * 4 + k for r in group.model_ids]
        stored = zoo.tensors(rows)
        assert set(stored) == set(flat)
        for name, value in flat.items():
            np.testing.assert_array_equal(stored[name], value, err_msg=f"{name} at {step}")


def test_every_checkpoint_of_a_model_is_in_its_models_split(ckpt_zoo):
    seen = {}
    for split in SPLITS:
        meta = load_zoo(ckpt_zoo, split=split).metadata
        lo, hi = split_ranges(CKPT.num_models)[split]
        runs = meta["run_id"].to_numpy()
        assert ((runs >= lo) & (runs < hi)).all()
        for run, rows in meta.groupby("run_id"):
            assert sorted(rows["step"]) == [20, 40, 60, 80]
            assert run not in seen
            seen[run] = split
    assert sorted(seen) == list(range(12))


def test_npz_export_has_one_entry_per_row_in_split_order(ckpt_zoo, tmp_path):
    zoo = load_zoo(ckpt_zoo)
    out = export_npz(zoo, tmp_path / "zoo.npz", progress=False)
    with np.load(out) as f:
        assert f["test_srs"].shape == (48,)
        assert f["GRUCell_0/hn/kernel"].shape == (48, 8, 8, 1)
        np.testing.assert_array_equal(f["test_srs"], zoo.metadata["test_sr"].to_numpy())
        np.testing.assert_array_equal(f["GRUCell_0/hn/kernel"][..., 0],
                                      zoo.tensors(np.arange(48))["GRUCell_0/hn/kernel"])


def test_hyperparameters_are_pure_functions_of_seed_and_id():
    again = dataclasses.replace(CKPT, num_models=30, group_size=10, checkpoints=None)
    for i in range(12):
        assert model_hparams(CKPT, i) == model_hparams(again, i)
    # adding or removing one variation never moves another's values
    only_wd = dataclasses.replace(CKPT, init_scale=None, data_fraction=None, adam_b1=None,
                                  clip_norm=None)
    plain = dataclasses.replace(CKPT, weight_decay=None, init_scale=None, data_fraction=None,
                                adam_b1=None, clip_norm=None)
    for i in range(12):
        a, b, c = model_hparams(CKPT, i), model_hparams(only_wd, i), model_hparams(plain, i)
        assert a.weight_decay == b.weight_decay and b.init_scale == 1.0
        assert (a.learning_rate, a.batch_size) == (c.learning_rate, c.batch_size)
        assert c.weight_decay == 0.0 and c.clip_norm == np.inf
    # a different seed gives other values; each lies in its range
    other = dataclasses.replace(CKPT, seed=1)
    assert model_hparams(other, 0) != model_hparams(CKPT, 0)
    for i in range(12):
        h = model_hparams(CKPT, i)
        for name in VARIATIONS:
            lo, hi = getattr(CKPT, name)
            assert lo <= getattr(h, name) <= hi
        subset = training_subset(CKPT, h, 60)
        np.testing.assert_array_equal(subset, training_subset(again, h, 60))
        assert len(subset) == max(1, round(h.data_fraction * 60))
        assert len(np.unique(subset)) == len(subset) and subset.max() < 60


def test_configs_without_the_new_fields_keep_their_fingerprints():
    tiny = get_preset("tiny")
    assert set(tiny.to_dict()) & {"checkpoints", "recipe", *VARIATIONS} == set()
    assert ZooConfig.from_dict(CKPT.to_dict()) == CKPT
    assert ZooConfig.from_dict(json.loads(json.dumps(CKPT.to_dict()))).fingerprint() == \
        CKPT.fingerprint()


@pytest.mark.parametrize("change, message", [
    ({"checkpoints": (20, 40)}, "ending at steps"),
    ({"checkpoints": (40, 20, 80)}, "increasing"),
    ({"checkpoints": (0, 80)}, "checkpoints"),
    ({"weight_decay": (1.0, 0.1)}, "low <= high"),
    ({"data_fraction": (0.5, 1.5)}, "data_fraction"),
    ({"adam_b1": (0.5,)}, "adam_b1"),
    ({"recipe": 0}, "recipe"),
])
def test_bad_checkpoints_and_ranges_are_refused(change, message):
    with pytest.raises(TinyZooError, match=message):
        dataclasses.replace(CKPT, **change)


def test_a_half_built_zoo_of_the_config_without_checkpoints_is_refused(tmp_path):
    from zoo_builder.shards import write_shard
    from zoo_builder.synthetic import synthetic_result
    from zoo_data.archive.folder import prepare_zoo_dir
    from zoo_data.archive.layout import ZooLayout

    plain = ZooLayout.of(dataclasses.replace(CKPT, checkpoints=None))
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", plain)
    write_shard(zoo_dir, plain, 0, synthetic_result(plain, 0))  # one shard of two
    with pytest.raises(TinyZooError, match="another"):
        build_zoo(zoo_dir, CKPT, progress=False)


def test_the_hparams_reference_reads_every_sampled_hyperparameter_and_the_step(ckpt_zoo):
    from predictors.references import HParams

    ref = HParams()
    ref.bind(CKPT)
    assert ref.metadata_columns == ("learning_rate", "batch_size", *VARIATIONS, "step")
    zoo = load_zoo(ckpt_zoo, split="train")
    feats = ref.features(zoo.columns(ref.metadata_columns), None)
    assert feats.shape == (len(zoo), 6 + 3 * 5 + 4 + 5) and np.isfinite(feats).all()
    plain = HParams()
    plain.bind(get_preset("small"))
    assert plain.metadata_columns == ("learning_rate", "batch_size")


def test_a_benchmark_on_a_zoo_with_checkpoints_records_rows_and_resamples_models(tmp_path):
    from benchmarks.bench import run_benchmark
    from benchmarks.protocol_config import ProtocolConfig
    from benchmarks.results import CI_METHOD_CLUSTERED
    from zoo_builder.synthetic import write_synthetic_zoo

    config = dataclasses.replace(CKPT, num_models=50, hidden=4, group_size=10, block_size=5)
    zoo_dir = write_synthetic_zoo(tmp_path / "zoo", config)
    record, _ = run_benchmark("hparams", zoo_dir, seeds=1,
                              config=ProtocolConfig(epochs=2, passes_per_epoch=1,
                                                    patience=None),
                              results_dir=tmp_path / "results", progress=False, audit=False,
                              log=lambda *a: None)
    assert record["zoo"]["rows_per_model"] == 4 and record["zoo"]["num_models"] == 50
    test_rows = load_zoo(zoo_dir, split="test").model_ids
    np.testing.assert_array_equal(test_rows, np.arange(45 * 4, 50 * 4))
    assert record["predictions"]["model_id"] == test_rows.tolist()
    assert record["test_tau_ci"]["method"] == CI_METHOD_CLUSTERED


def test_each_hyperparameter_has_a_draw_of_its_own():
    """No two sampled hyperparameters come from the same uniform draw (numpy's seed
    sequences ignore trailing zero words, so ``[seed, id, tag, 0]`` replays ``[seed, id,
    tag]``): across 300 models their ranks are nearly uncorrelated."""
    config = dataclasses.replace(CKPT, num_models=300, group_size=100, checkpoints=None)
    hps = [model_hparams(config, i) for i in range(300)]
    names = ("learning_rate", *VARIATIONS)
    values = np.array([[getattr(h, n) for n in names] for h in hps])
    ranks = np.argsort(np.argsort(values, axis=0), axis=0)
    corr = np.corrcoef(ranks.T)
    off_diagonal = corr[~np.eye(len(names), dtype=bool)]
    assert np.abs(off_diagonal).max() < 0.25, dict(zip(names, corr[0], strict=True))


def test_a_zoo_without_checkpoints_loads_with_one_row_per_model(synthetic_zoo):
    """Zoos built before checkpoints (no run_id or step column) load as before; their
    rows are their models."""
    import pyarrow.parquet as pq

    shard = next((synthetic_zoo / "data").glob("train-*.parquet"))
    assert {"run_id", "step"}.isdisjoint(pq.read_schema(shard).names)
    zoo = load_zoo(synthetic_zoo)
    meta = zoo.metadata
    np.testing.assert_array_equal(meta["run_id"], meta.index)
    assert (meta["step"] == zoo.config.steps).all()
    assert zoo.config.rows_per_model == 1 and len(zoo) == zoo.config.num_models
    test = load_zoo(synthetic_zoo, split="test")
    lo, hi = split_ranges(zoo.config.num_models)["test"]
    np.testing.assert_array_equal(test.model_ids, np.arange(lo, hi))
