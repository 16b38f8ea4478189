"""The zoo archive: schema, atomic shards with checksums, manifest, card, and reading back
through ``datasets``. Real files in ``tmp_path``, fake (random) weights, no training."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from flax.traverse_util import flatten_dict, unflatten_dict

from zoo_builder.shards import GroupResult, write_shard
from zoo_data.archive.card import dataset_card
from zoo_data.archive.folder import complete_shards, finalize, prepare_zoo_dir
from zoo_data.archive.layout import ZooLayout, shard_name, sidecar_name, training_groups
from zoo_data.archive.manifest import read_manifest
from zoo_data.archive.schema import tensor_shapes, zoo_features
from zoo_data.archive.splits import split_ranges
from zoo_data.errors import TinyZooError
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.schema import METADATA_COLUMNS
from zoo_data.rnn.spec import seq2seq_spec
from zoo_data.rnn.task import VOCAB_SIZE
from zoo_data.zoo import load_rows

# fixed here (not the tiny preset, which may be recalibrated): 24 models in 4 groups
CONFIG = ZooConfig("archive-test", num_models=24, hidden=8, max_digits=1, steps=60, n_test=20,
                   n_train_pool=30, group_size=8)
H, V = CONFIG.hidden, VOCAB_SIZE
G = len(training_groups(CONFIG))
assert G == 4, "the tests below assume the 24 models fall into 4 training groups"


def shard_file(g: int, split: str = "train") -> str:
    return shard_name(g, G, split)


#: The files of CONFIG's groups in format 2: group 1 spans all three splits, group 3 two.
FILES = {0: ["train-00000-of-00004.parquet"],
         1: ["train-00001-of-00004.parquet", "validation-00001-of-00004.parquet",
             "test-00001-of-00004.parquet"],
         2: ["train-00002-of-00004.parquet"],
         3: ["train-00003-of-00004.parquet", "test-00003-of-00004.parquet"]}


def fake_result(config, group_index: int) -> GroupResult:
    """Random float32 weights and labels for a group, reproducible from its index."""
    group = training_groups(config)[group_index]
    m = len(group.model_ids)
    rng = np.random.default_rng([config.seed, group_index])
    flat = {
        tuple(path.split("/")): rng.normal(size=(m, *shape)).astype(np.float32)
        for path, shape in tensor_shapes(config).items()
    }
    labels = rng.random((3, m)).astype(np.float32)
    return GroupResult(group.model_ids, unflatten_dict(flat), *labels)


def write_groups(zoo_dir: Path, config, groups=None) -> dict[int, str]:
    indices = range(len(training_groups(config))) if groups is None else groups
    layout = ZooLayout.of(config)
    return {g: write_shard(zoo_dir, layout, g, fake_result(config, g)) for g in indices}


def build(tmp_path: Path, config=CONFIG) -> Path:
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(config))
    write_groups(zoo_dir, config)
    finalize(zoo_dir, ZooLayout.of(config))
    return zoo_dir


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------- schema


def test_schema_columns_and_shapes():
    features = zoo_features(CONFIG)
    shapes = tensor_shapes(CONFIG)
    names = list(features)
    assert len(names) == 9 + 22
    assert names[:9] == list(METADATA_COLUMNS)
    assert names[9:] == sorted(shapes) == list(shapes)
    assert set(shapes) == set(flatten_dict(seq2seq_spec(), sep="/"))
    assert features["model_id"] == datasets.Value("int64")
    assert features["learning_rate"] == datasets.Value("float64")
    assert features["batch_size"] == datasets.Value("int32")
    assert features["test_sr"] == datasets.Value("float32")

    assert shapes["GRUCell_0/ir/kernel"] == (V, H)
    assert shapes["GRUCell_0/hn/kernel"] == (H, H)
    assert shapes["DecoderGRUCell_0/GRUCell_0/hn/bias"] == (H,)
    assert shapes["DecoderGRUCell_0/Dense_0/kernel"] == (H, V)
    assert shapes["DecoderGRUCell_0/Dense_0/bias"] == (V,)
    for path, shape in shapes.items():
        feature = features[path]
        if len(shape) == 2:
            assert feature == datasets.Array2D(shape=shape, dtype="float32"), path
        else:
            assert feature == datasets.List(datasets.Value("float32"), length=shape[0]), path


# --------------------------------------------------------------------------- round trip


def test_build_finalize_and_read_back(tmp_path):
    zoo_dir = build(tmp_path)
    groups = training_groups(CONFIG)

    manifest = read_manifest(zoo_dir)
    assert manifest["complete"] is True
    assert manifest["config"] == CONFIG.to_dict()
    assert manifest["config_fingerprint"] == CONFIG.fingerprint()
    assert manifest["num_models"] == CONFIG.num_models
    assert set(manifest["versions"]) >= {"python", "jax", "jaxlib", "flax", "numpy", "pyarrow"}
    assert manifest["format_version"] == 2
    assert list(manifest["shards"]) == [name for g in range(G) for name in FILES[g]]
    split_of = {"train": "train", "validation": "val", "test": "test"}
    for name, entry in manifest["shards"].items():
        assert entry["sha256"] == sha256(zoo_dir / "data" / name)
        assert entry["split"] == split_of[name.split("-")[0]]
        lo, hi = split_ranges(CONFIG.num_models)[entry["split"]]
        ids = [i for i in groups[entry["group"]].model_ids if lo <= i < hi]
        assert entry["rows"] == len(ids) > 0
        assert pq.read_table(zoo_dir / "data" / name).column("model_id").to_pylist() == ids
    assert complete_shards(zoo_dir, ZooLayout.of(CONFIG)) == {
        g: {name: manifest["shards"][name]["sha256"] for name in FILES[g]} for g in range(G)
    }

    expected = {}
    for g in groups:
        r = fake_result(CONFIG, g.index)
        flat = flatten_dict(r.params, sep="/")
        for j, model_id in enumerate(g.model_ids):
            expected[model_id] = (g.index, r.test_sr[j], {p: a[j] for p, a in flat.items()})

    features = zoo_features(CONFIG)
    cache = tmp_path / "hf-cache"
    rows = load_rows(zoo_dir, cache_dir=cache)
    assert len(rows) == CONFIG.num_models and rows.features == features
    # datasets finds the three splits with or without the card, with the manifest's rows
    counts = {"train": 19, "validation": 2, "test": 3}
    for where, kwargs in ((zoo_dir, {}), ("parquet", {"data_dir": str(zoo_dir)})):
        splits = datasets.load_dataset(str(where), cache_dir=str(cache), **kwargs)
        assert {k: len(v) for k, v in splits.items()} == counts
        for name, ds in splits.items():
            assert ds.features == features
            lo, hi = split_ranges(CONFIG.num_models)[
                {"train": "train", "validation": "val", "test": "test"}[name]]
            assert sorted(ds["model_id"]) == list(range(lo, hi))

    rows = rows.with_format("numpy")
    assert rows[:]["model_id"].tolist() == list(range(CONFIG.num_models))
    for i in range(CONFIG.num_models):
        row = rows[i]
        group, test_sr, params = expected[i]
        hp = model_hparams(CONFIG, i)
        assert (row["group"], row["learning_rate"], row["batch_size"]) == (
            group, hp.learning_rate, hp.batch_size
        )
        assert (row["steps"], row["seed"], row["test_sr"]) == (CONFIG.steps, CONFIG.seed, test_sr)
        for path, value in params.items():
            assert row[path].dtype == np.float32 and row[path].shape == value.shape
            np.testing.assert_array_equal(row[path], value, err_msg=path)


def test_card_front_matter_names_the_data_files(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    text = (zoo_dir / "README.md").read_text()
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    meta = yaml.safe_load(front)
    assert meta["configs"] == [
        {"config_name": "default",
         "data_files": [{"split": "train", "path": "data/train-*.parquet"},
                        {"split": "validation", "path": "data/validation-*.parquet"},
                        {"split": "test", "path": "data/test-*.parquet"}]}
    ]
    assert "| `validation` | 19 .. 20 | 2 | 2 | 1 |" in body  # the split's table
    assert "Hub's dataset\nviewer" in body
    assert meta["license"] == "cc-by-4.0"
    assert {"weight-space-learning", "model-zoo"} <= set(meta["tags"])
    assert meta["task_categories"] and meta["pretty_name"] and meta["size_categories"] == ["n<1K"]
    assert f"H = {CONFIG.hidden}" in body
    for path in tensor_shapes(CONFIG):
        assert f"`{path}`" in body
    assert "length uniform" in body


def test_card_states_the_operand_scheme():
    config = dataclasses.replace(CONFIG, max_digits=5, operands="small-addend",
                                 lr_schedule="cosine")
    body = dataset_card(config)
    assert "One operand is uniform on 0..99, the other uniform on 0..99999" in body
    assert "length uniform" not in body
    assert "the peak of a cosine decay" in body
    assert "cosine" not in dataset_card(CONFIG)


# --------------------------------------------------------------------------- completeness


def test_corrupted_shard_is_not_complete(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    write_groups(zoo_dir, CONFIG)
    shard = zoo_dir / "data" / shard_file(1, "val")  # one of group 1's three files
    blob = bytearray(shard.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    shard.write_bytes(bytes(blob))
    assert set(complete_shards(zoo_dir, ZooLayout.of(CONFIG))) == {0, 2, 3}
    with pytest.raises(TinyZooError, match="1 of 4 training groups"):
        finalize(zoo_dir, ZooLayout.of(CONFIG))


def test_parquet_without_sidecar_is_incomplete_and_overwritten(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    data = zoo_dir / "data"
    write_groups(zoo_dir, CONFIG, groups=[0])
    # simulated crash: the parquet of group 2 is there (truncated), its sidecar is not,
    # and a temporary file of a dead writer was left behind
    (data / shard_file(2)).write_bytes((data / shard_file(0)).read_bytes()[:100])
    (data / f".{shard_file(3)}.tmp-99999").write_bytes(b"partial")
    assert set(complete_shards(zoo_dir, ZooLayout.of(CONFIG))) == {0}

    shas = write_shard(zoo_dir, ZooLayout.of(CONFIG), 2, fake_result(CONFIG, 2))
    assert shas == {shard_file(2): sha256(data / shard_file(2))}
    sidecar = json.loads((data / sidecar_name(2, G)).read_text())
    assert sidecar == {
        "group": 2,
        "split": "train",
        "model_ids": list(training_groups(CONFIG)[2].model_ids),
        "rows": len(training_groups(CONFIG)[2].model_ids),
        "sha256": shas[shard_file(2)],
        "config_fingerprint": CONFIG.fingerprint(),
    }
    assert complete_shards(zoo_dir, ZooLayout.of(CONFIG)) == {
        0: {shard_file(0): sha256(data / shard_file(0))}, 2: shas
    }
    assert not list(data.glob(f".*.tmp-{os.getpid()}"))


def test_finalize_with_a_missing_group_raises(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    write_groups(zoo_dir, CONFIG, groups=[0, 1, 3])
    before = (zoo_dir / "manifest.json").read_bytes()
    with pytest.raises(TinyZooError, match="1 of 4 training groups") as excinfo:
        finalize(zoo_dir, ZooLayout.of(CONFIG))
    assert "train-00002-of-00004.parquet" in one_line(excinfo)
    assert (zoo_dir / "manifest.json").read_bytes() == before
    assert read_manifest(zoo_dir)["complete"] is False


def test_finalize_refuses_stray_files_in_data(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    write_groups(zoo_dir, CONFIG)
    (zoo_dir / "data" / "notes.txt").write_text("hello")
    with pytest.raises(TinyZooError, match="notes.txt"):
        finalize(zoo_dir, ZooLayout.of(CONFIG))


def test_write_shard_rejects_a_result_of_another_group(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", ZooLayout.of(CONFIG))
    with pytest.raises(ValueError, match="group 1"):
        write_shard(zoo_dir, ZooLayout.of(CONFIG), 1, fake_result(CONFIG, 0))
    assert not list((zoo_dir / "data").iterdir())


# --------------------------------------------------------------------------- the folder


def test_prepare_is_idempotent_and_keeps_a_finished_zoo(tmp_path):
    zoo_dir = build(tmp_path)
    before = snapshot(zoo_dir)
    assert prepare_zoo_dir(zoo_dir, ZooLayout.of(CONFIG)) == zoo_dir
    assert snapshot(zoo_dir) == before


def test_prepare_refuses_another_configs_zoo_untouched(tmp_path):
    zoo_dir = build(tmp_path)
    before = snapshot(zoo_dir)
    other = dataclasses.replace(CONFIG, seed=1)
    with pytest.raises(TinyZooError, match="another config") as excinfo:
        prepare_zoo_dir(zoo_dir, ZooLayout.of(other))
    msg = one_line(excinfo)
    assert str(zoo_dir) in msg and CONFIG.fingerprint() in msg and "refusing" in msg
    assert snapshot(zoo_dir) == before

    # shards alone (no manifest) are enough to refuse
    (zoo_dir / "manifest.json").unlink()
    before = snapshot(zoo_dir)
    with pytest.raises(TinyZooError, match="another config"):
        prepare_zoo_dir(zoo_dir, ZooLayout.of(other))
    assert snapshot(zoo_dir) == before


def test_prepare_refuses_a_non_zoo_folder(tmp_path):
    target = tmp_path / "stuff"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(TinyZooError, match="not a zoo") as excinfo:
        prepare_zoo_dir(target, ZooLayout.of(CONFIG))
    assert str(target) in one_line(excinfo)
    assert snapshot(target) == {"notes.txt": b"mine"}
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]


def test_prepare_refuses_a_file(tmp_path):
    target = tmp_path / "zoo"
    target.write_text("x")
    with pytest.raises(TinyZooError, match="not a directory") as excinfo:
        prepare_zoo_dir(target, ZooLayout.of(CONFIG))
    assert str(target) in one_line(excinfo)
    with pytest.raises(TinyZooError, match="not a directory"):
        prepare_zoo_dir(target / "sub", ZooLayout.of(CONFIG))
    assert target.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_prepare_refuses_a_read_only_folder(tmp_path):
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o500)
    try:
        with pytest.raises(TinyZooError, match="not writable"):
            prepare_zoo_dir(target, ZooLayout.of(CONFIG))
    finally:
        target.chmod(0o700)


def test_prepare_creates_an_empty_zoo(tmp_path):
    zoo_dir = prepare_zoo_dir(tmp_path / "a" / "zoo", ZooLayout.of(CONFIG))
    assert sorted(p.name for p in zoo_dir.iterdir()) == ["README.md", "data", "manifest.json"]
    manifest = read_manifest(zoo_dir)
    assert manifest["complete"] is False and manifest["shards"] == {}
    assert complete_shards(zoo_dir, ZooLayout.of(CONFIG)) == {}
    with pytest.raises(TinyZooError, match="no zoo shards"):
        load_rows(zoo_dir)


@pytest.mark.parametrize(
    "content, match",
    [
        (None, "no zoo manifest"),
        (b'{"format_version": 1, "config": {"pre', "truncated or invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"format_version": 1}', "missing key 'config'"),
    ],
)
def test_read_manifest_errors_name_the_file(tmp_path, content, match):
    if content is not None:
        (tmp_path / "manifest.json").write_bytes(content)
    with pytest.raises(TinyZooError, match=match) as excinfo:
        read_manifest(tmp_path)
    assert str(tmp_path / "manifest.json") in one_line(excinfo)
