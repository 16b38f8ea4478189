"""Splits and ``load_zoo`` on local folders: exact split counts, the committed split
files, batches as parameter pytrees, determinism, bounded cache, strict checks."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import jax
import numpy as np
import pytest
from flax.traverse_util import flatten_dict

from predictors.unf.spec import match_spec
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.manifest import read_manifest
from zoo_data.archive.reader import ShardReader
from zoo_data.archive.schema import tensor_shapes
from zoo_data.archive.split_schemes import scheme_record
from zoo_data.archive.splits import SPLITS, split_ids, split_of, split_record, split_sizes
from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import PRESETS
from zoo_data.zoo import load_rows, load_zoo

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- splits


@pytest.mark.parametrize("preset, sizes", [
    ("paper", (8000, 1000, 1000)), ("small", (1600, 200, 200)), ("mini", (160, 20, 20)),
    ("small-v2", (800, 100, 100)),
    ("tiny", (19, 2, 3)),
])
def test_preset_split_sizes(preset, sizes):
    assert tuple(split_sizes(PRESETS[preset].num_models).values()) == sizes


def test_paper_split_matches_the_paper_scripts_index_ranges():
    n = 10_000
    assert np.array_equal(split_ids(n, "train"), np.arange(0, 8000))
    assert np.array_equal(split_ids(n, "val"), np.arange(8000, 9000))
    assert np.array_equal(split_ids(n, "test"), np.arange(9000, 10000))


@pytest.mark.parametrize("n", [3, 4, 5, 7, 10, 11, 24, 99, 301, 2001])
def test_splits_partition_the_ids(n):
    ids = np.concatenate([split_ids(n, s) for s in SPLITS])
    assert np.array_equal(ids, np.arange(n))
    assert all(len(split_ids(n, s)) >= 1 for s in SPLITS)
    assert list(split_of(n, ids)) == [s for s in SPLITS for _ in split_ids(n, s)]


def test_split_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        split_ids(10, "dev")
    with pytest.raises(ValueError, match="at least 3"):
        split_sizes(2)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_committed_split_files_match_the_code(preset):
    config = PRESETS[preset]
    record = json.loads((REPO / "data" / "splits" / f"{preset}.json").read_text())
    assert record == {"preset": preset, "num_models": config.num_models,
                      "config_fingerprint": config.fingerprint(),
                      "splits": split_record(config),
                      "schemes": {"lr-shift": scheme_record(config, "lr-shift")}}


def test_manifest_holds_the_split(synthetic_zoo):
    assert read_manifest(synthetic_zoo)["splits"] == split_record(DATA_CONFIG)


# --------------------------------------------------------------------------- load_zoo


def test_load_zoo_splits_and_labels(synthetic_zoo):
    zoo = load_zoo(synthetic_zoo)
    assert len(zoo) == 30 and zoo.split is None
    for name, expected in zip(SPLITS, (24, 3, 3), strict=True):
        part = load_zoo(synthetic_zoo, split=name)
        assert len(part) == expected
        assert np.array_equal(part.model_ids, split_ids(30, name))
        assert np.array_equal(part.labels, zoo.metadata.loc[part.model_ids, "test_sr"])
    assert zoo.spec.keys() == {"GRUCell_0", "DecoderGRUCell_0"}


def test_batches_cover_the_split_once_and_match_the_datasets_rows(synthetic_zoo, tmp_path):
    zoo = load_zoo(synthetic_zoo, split="train")
    rows = load_rows(synthetic_zoo, cache_dir=tmp_path / "hf").with_format("numpy")
    seen = []
    for batch in zoo.batches(5):
        seen.extend(batch.model_id.tolist())
        flat = flatten_dict(batch.params, sep="/")
        assert flat.keys() == tensor_shapes(DATA_CONFIG).keys()
        for k, model_id in enumerate(batch.model_id):
            row = rows[int(model_id)]
            assert row["model_id"] == model_id
            assert batch.labels[k] == row["test_sr"]
            for path, value in flat.items():
                assert value.dtype == np.float32
                assert np.array_equal(value[k], row[path]), path
    assert seen == list(range(24))
    assert [len(b.model_id) for b in zoo.batches(5)] == [5, 5, 5, 5, 4]
    assert [len(b.model_id) for b in zoo.batches(5, drop_last=True)] == [5, 5, 5, 5]


def test_shuffled_batches_are_a_deterministic_permutation(synthetic_zoo):
    zoo = load_zoo(synthetic_zoo, split="train")

    def order(seed):
        return [int(i) for b in zoo.batches(4, shuffle=True, seed=seed) for i in b.model_id]

    assert order(1) == order(1)
    assert sorted(order(1)) == list(range(24))
    assert order(1) != order(2) and order(1) != list(range(24))
    # same weights whichever order they come in
    a = {int(i): b.params["GRUCell_0"]["hn"]["kernel"][k]
         for b in zoo.batches(4, shuffle=True, seed=3) for k, i in enumerate(b.model_id)}
    for b in zoo.batches(7):
        for k, i in enumerate(b.model_id):
            assert np.array_equal(a[int(i)], b.params["GRUCell_0"]["hn"]["kernel"][k])


def test_batches_for_the_unf_core(synthetic_zoo):
    zoo = load_zoo(synthetic_zoo, split="val")
    batch = next(zoo.batches(3, as_jax=True, channel_axis=True))
    assert isinstance(batch.params["GRUCell_0"]["hn"]["kernel"], jax.Array)
    assert batch.params["GRUCell_0"]["hn"]["kernel"].shape == (3, 4, 4, 1)
    tensors = match_spec(zoo.spec, batch.params, leading=1, trailing=1)
    assert len(tensors) == 22


def test_reader_cache_stays_bounded(synthetic_zoo):
    zoo = load_zoo(synthetic_zoo)
    reader = ShardReader(synthetic_zoo, DATA_CONFIG, cache_bytes=1)
    for _ in range(2):
        out = reader.read(np.arange(30)[::-1])
        assert reader._cached_bytes <= max(reader.cache_bytes, max(
            s for s, _ in reader._cache.values()))
        assert len(reader._cache) == 1
    full = zoo.params(np.arange(30)[::-1])
    assert np.array_equal(out["GRUCell_0/ir/kernel"], full["GRUCell_0"]["ir"]["kernel"])


def test_column_reads_equal_row_group_reads(synthetic_zoo):
    reader = ShardReader(synthetic_zoo, DATA_CONFIG)
    ids = [29, 0, 13, 13, 7]
    whole = reader.read(ids)
    for path in ("GRUCell_0/hn/kernel", "DecoderGRUCell_0/Dense_0/bias"):
        assert np.array_equal(reader.read(ids, columns=[path])[path], whole[path])
    with pytest.raises(KeyError, match="model id 30"):
        reader.read([30])
    with pytest.raises(KeyError, match="no tensor"):
        reader.read([1], columns=["nope"])


def test_dataset_is_memory_mapped_and_split(synthetic_zoo, tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    zoo = load_zoo(synthetic_zoo, split="test")
    ds = zoo.dataset
    assert list(ds["model_id"]) == [27, 28, 29]
    assert ds.cache_files  # backed by Arrow files on disk, memory-mapped


# --------------------------------------------------------------------------- strictness


def test_incomplete_or_damaged_zoos_are_refused(synthetic_zoo):
    manifest = synthetic_zoo / "manifest.json"
    original = manifest.read_text()
    data = json.loads(original)

    data["complete"] = False
    manifest.write_text(json.dumps(data))
    with pytest.raises(TinyZooError, match="not complete"):
        load_zoo(synthetic_zoo)

    data = json.loads(original)
    del data["splits"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(TinyZooError, match="split"):
        load_zoo(synthetic_zoo)

    data = json.loads(original)
    data["config"]["hidden"] = 5
    manifest.write_text(json.dumps(data))
    with pytest.raises(TinyZooError, match="fingerprint"):
        load_zoo(synthetic_zoo)

    manifest.write_text(original)
    shard = synthetic_zoo / "data" / ZooLayout.of(DATA_CONFIG).shard_names[1]
    shard.unlink()
    with pytest.raises(TinyZooError, match=f"{shard.name}: shard listed in the manifest"):
        load_zoo(synthetic_zoo)


def test_bad_arguments(synthetic_zoo, tmp_path):
    with pytest.raises(TinyZooError, match="unknown split 'dev'"):
        load_zoo(synthetic_zoo, split="dev")
    with pytest.raises(TinyZooError, match="no such zoo folder"):
        load_zoo(tmp_path / "nothing")
    with pytest.raises(TinyZooError, match="no zoo manifest"):
        load_zoo(tmp_path)
    with pytest.raises(ValueError, match="batch_size 0"):
        next(load_zoo(synthetic_zoo).batches(0))
