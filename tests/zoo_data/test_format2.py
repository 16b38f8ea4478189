"""Archive format 2: a Parquet file per split of each training group, so ``datasets``
and the Hub see train / validation / test; a group is still written, and rebuilt after
a crash, as one unit; format-1 zoos still load, verify, describe and export unchanged."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from tests.fixtures.cli import cli
from tests.fixtures.zoos import DATA_CONFIG
from zoo_builder.synthetic import synthetic_result, write_synthetic_zoo
from zoo_data.archive.folder import complete_group, complete_shards, prepare_zoo_dir
from zoo_data.archive.layout import HUB_SPLITS, ZooLayout
from zoo_data.archive.manifest import read_manifest
from zoo_data.archive.migrate import write_format1_zoo
from zoo_data.archive.splits import split_ranges
from zoo_data.archive.verify import verify_zoo
from zoo_data.errors import TinyZooError
from zoo_data.export import export_npz
from zoo_data.zoo import load_rows, load_zoo

LAYOUT = ZooLayout.of(DATA_CONFIG)

#: The synthetic DATA_CONFIG zoo's shards (pyarrow 26.0.1). Format 1: written by the
#: builder before format 2 existed (commit 6b3c010, ``write_synthetic_zoo``); the
#: format-1 writer of :mod:`zoo_data.archive.migrate` must reproduce them. Format 2: as written
#: since. A group wholly in one split has the same file in both formats.
RECORDED_SYNTHETIC = {
    "pyarrow": "26.0.1",
    1: {
        "train-00000-of-00009.parquet":
            "5de450e485c81543795ac39efb7b82de4ca3d6c5e870c90cd7873965ba7a6ebe",
        "train-00001-of-00009.parquet":
            "9d384845a74bdf21e07b92e9d53251320cb4b3e0921d893cd732a6f847172a5d",
        "train-00002-of-00009.parquet":
            "d0955a75fe1201c64989cc99db72b473b7f5a4287a07195319aa81a7b7624c48",
        "train-00003-of-00009.parquet":
            "010d699418969cbffbb793750e796649155c2d4a269581444ee13ad010739eb2",
        "train-00004-of-00009.parquet":
            "8970b3341a26471feb80bcdb54ff59d182380043389a3a447551ed456efb5dc2",
        "train-00005-of-00009.parquet":
            "5ef531b7a11d2acd1f574a6c897e2d6540d747d1c6beaf5ce6ae70fcf2b98b06",
        "train-00006-of-00009.parquet":
            "52a6cfe896c7a458c459e4f7b9d90ebbe1c03a5c10a4ed4856f7b05b53c50e5b",
        "train-00007-of-00009.parquet":
            "c39cabb609687f1c7479cdef0e3696d09d55b95880a1618e551dc5f43b9f9769",
        "train-00008-of-00009.parquet":
            "0e2fcef9b53209d0b418f9d8ca5ba6b215f21ccbd0fcb2d8b34ab7c51fb6dc96",
    },
    2: {
        "train-00000-of-00009.parquet":
            "5de450e485c81543795ac39efb7b82de4ca3d6c5e870c90cd7873965ba7a6ebe",
        "train-00001-of-00009.parquet":
            "9d384845a74bdf21e07b92e9d53251320cb4b3e0921d893cd732a6f847172a5d",
        "train-00002-of-00009.parquet":
            "d0955a75fe1201c64989cc99db72b473b7f5a4287a07195319aa81a7b7624c48",
        "train-00003-of-00009.parquet":
            "010d699418969cbffbb793750e796649155c2d4a269581444ee13ad010739eb2",
        "train-00004-of-00009.parquet":
            "8970b3341a26471feb80bcdb54ff59d182380043389a3a447551ed456efb5dc2",
        "train-00005-of-00009.parquet":
            "1979cfae397a126e70e1bf70c982b57376701c56810b1488d728add2e888144e",
        "test-00005-of-00009.parquet":
            "35c6aaa953b6be74f4183e972ecab52c457c326b30d3493ecd8afd24218c45c0",
        "train-00006-of-00009.parquet":
            "52a6cfe896c7a458c459e4f7b9d90ebbe1c03a5c10a4ed4856f7b05b53c50e5b",
        "train-00007-of-00009.parquet":
            "96b33c54ee45d526a0bdafc32a5c2672269d8dfacc9b14209b19e9e244c9f67f",
        "validation-00007-of-00009.parquet":
            "517ed2e3435ea5d848f217f2c5aaf6aeabc78b62de7430a61965bd7fac462124",
        "validation-00008-of-00009.parquet":
            "470173c47d14927d1bdc71f29754efc913966bed6160e129704e4df8e6e79135",
        "test-00008-of-00009.parquet":
            "4edf5cd64c1116c4568631ac5b587122aa61cb4be50790e43abb8cd6964492fb",
    },
}


def shard_shas(zoo_dir: Path) -> dict[str, str]:
    return {name: entry["sha256"] for name, entry in read_manifest(zoo_dir)["shards"].items()}


@pytest.fixture(scope="module")
def format1_zoo(synthetic_zoo_master, tmp_path_factory) -> Path:
    """The synthetic zoo in format 1 (tests must not modify it)."""
    return write_format1_zoo(synthetic_zoo_master, tmp_path_factory.mktemp("f1") / "zoo")


# --------------------------------------------------------------------------- format 2


def test_a_group_has_a_file_per_split_it_has_models_of():
    ranges = split_ranges(DATA_CONFIG.num_models)
    assert {f.split for f in LAYOUT.files} == {"train", "val", "test"}
    for group in LAYOUT.groups:
        files = LAYOUT.group_files(group.index)
        assert [f.start for f in files] == list(np.cumsum([0] + [f.rows for f in files])[:-1])
        assert sum(f.rows for f in files) == LAYOUT.rows(group.index)
        assert tuple(i for f in files for i in f.model_ids) == group.model_ids
        for f in files:
            lo, hi = ranges[f.split]
            assert all(lo <= i < hi for i in f.model_ids)
            assert f.name == (f"{HUB_SPLITS[f.split]}-{group.index:05d}-of-"
                              f"{len(LAYOUT.groups):05d}.parquet")
    assert LAYOUT.split_rows() == {"train": 24, "validation": 3, "test": 3}


def test_the_manifest_lists_each_file_with_its_split_and_rows(synthetic_zoo_master):
    manifest = read_manifest(synthetic_zoo_master)
    assert manifest["format_version"] == 2
    assert list(manifest["shards"]) == LAYOUT.shard_names
    for f in LAYOUT.files:
        entry = manifest["shards"][f.name]
        assert entry == {"group": f.group, "split": f.split, "rows": f.rows,
                         "sha256": entry["sha256"]}
        table = pq.read_table(synthetic_zoo_master / "data" / f.name)
        assert table.column("model_id").to_pylist() == list(f.model_ids)  # group order
    if version("pyarrow") == RECORDED_SYNTHETIC["pyarrow"]:
        assert shard_shas(synthetic_zoo_master) == RECORDED_SYNTHETIC[2]


@pytest.mark.parametrize("how", ["card", "parquet data_dir"])
def test_datasets_loads_train_validation_test_with_the_manifests_counts(
        synthetic_zoo_master, tmp_path, how):
    manifest = read_manifest(synthetic_zoo_master)
    want = {"train": 0, "validation": 0, "test": 0}
    for entry in manifest["shards"].values():
        want[HUB_SPLITS[entry["split"]]] += entry["rows"]
    if how == "card":
        splits = datasets.load_dataset(str(synthetic_zoo_master), cache_dir=str(tmp_path))
    else:
        splits = datasets.load_dataset("parquet", data_dir=str(synthetic_zoo_master),
                                       cache_dir=str(tmp_path))
    assert isinstance(splits, datasets.DatasetDict)
    assert {name: len(ds) for name, ds in splits.items()} == want == {
        "train": 24, "validation": 3, "test": 3}
    for name, ds in splits.items():
        lo, hi = split_ranges(DATA_CONFIG.num_models)[{v: k for k, v in HUB_SPLITS.items()}[name]]
        assert sorted(ds["model_id"]) == list(range(lo, hi))


def test_the_card_declares_the_three_splits(synthetic_zoo_master):
    text = (synthetic_zoo_master / "README.md").read_text()
    front = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
    assert front["configs"] == [{"config_name": "default", "data_files": [
        {"split": s, "path": f"data/{s}-*.parquet"} for s in ("train", "validation", "test")]}]
    assert "## Splits and files" in text and "viewer" in text


class Killed(BaseException):
    """A simulated kill (not an Exception: nothing may catch it)."""


def test_a_group_killed_after_its_first_file_is_rewritten_as_a_whole(tmp_path, monkeypatch):
    import zoo_data.archive.shard_files as shard_files

    layout = LAYOUT
    group = next(g.index for g in layout.groups if len(layout.group_files(g.index)) > 1)
    zoo_dir = prepare_zoo_dir(tmp_path / "zoo", layout)
    from zoo_builder.shards import write_shard

    write_sidecar = shard_files.write_sidecar
    calls = []

    def dies_after_the_first(*args):
        write_sidecar(*args)
        calls.append(args)
        raise Killed

    monkeypatch.setattr(shard_files, "write_sidecar", dies_after_the_first)
    with pytest.raises(Killed):
        write_shard(zoo_dir, layout, group, synthetic_result(layout, group))
    monkeypatch.setattr(shard_files, "write_sidecar", write_sidecar)
    first, *rest = layout.group_files(group)
    assert (zoo_dir / "data" / first.name).is_file() and len(calls) == 1
    assert not any((zoo_dir / "data" / f.name).exists() for f in rest)
    assert complete_group(zoo_dir, layout, group) is None  # the group is not complete
    assert group not in complete_shards(zoo_dir, layout)
    assert not [p for p in (zoo_dir / "data").iterdir() if ".tmp-" in p.name]

    shas = write_shard(zoo_dir, layout, group, synthetic_result(layout, group))
    assert complete_group(zoo_dir, layout, group) == shas
    assert list(shas) == [f.name for f in layout.group_files(group)]


def test_building_into_a_format1_zoo_is_refused_with_the_migrate_hint(format1_zoo, tmp_path):
    import shutil

    zoo_dir = Path(shutil.copytree(format1_zoo, tmp_path / "zoo"))
    with pytest.raises(TinyZooError, match="a format-1 zoo; run 'tinyzoo migrate") as e:
        write_synthetic_zoo(zoo_dir, DATA_CONFIG)
    assert "\n" not in str(e.value) and str(zoo_dir) in str(e.value)


# --------------------------------------------------------------------------- format 1


def test_format1_files_are_those_of_the_builder_before_format2(format1_zoo):
    manifest = read_manifest(format1_zoo)
    assert manifest["format_version"] == 1
    assert sorted(p.name for p in (format1_zoo / "data").iterdir()) == sorted(
        [f"train-{g:05d}-of-00009.parquet" for g in range(9)]
        + [f".train-{g:05d}-of-00009.json" for g in range(9)])
    for entry in manifest["shards"].values():
        assert set(entry) == {"group", "rows", "sha256"}
    if version("pyarrow") != RECORDED_SYNTHETIC["pyarrow"]:
        pytest.skip(f"hashes recorded with pyarrow {RECORDED_SYNTHETIC['pyarrow']}")
    assert shard_shas(format1_zoo) == RECORDED_SYNTHETIC[1]


def test_a_format1_zoo_loads_verifies_and_exports_as_before(format1_zoo,
                                                            synthetic_zoo_master, tmp_path):
    old, new = load_zoo(format1_zoo), load_zoo(synthetic_zoo_master)
    assert old.manifest["format_version"] == 1 and new.manifest["format_version"] == 2
    assert old.manifest_sha256 != new.manifest_sha256
    assert old.metadata.equals(new.metadata)
    a, b = old.tensors(old.model_ids), new.tensors(new.model_ids)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    for split in ("train", "val", "test"):
        assert list(load_zoo(format1_zoo, split).model_ids) == list(
            load_zoo(synthetic_zoo_master, split).model_ids)
    assert verify_zoo(format1_zoo).ok
    npz = [export_npz(z, tmp_path / f"{i}.npz", progress=False) for i, z in enumerate((old, new))]
    assert hashlib.sha256(npz[0].read_bytes()).digest() == hashlib.sha256(
        npz[1].read_bytes()).digest()
    assert load_rows(format1_zoo)["model_id"] == list(range(DATA_CONFIG.num_models))


def test_a_format1_card_says_so_and_load_dataset_gives_one_split(format1_zoo, tmp_path,
                                                                 capsys):
    text = (format1_zoo / "README.md").read_text()
    assert "archive format 1" in text and "tinyzoo migrate" in text
    front = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
    assert front["configs"][0]["data_files"] == [{"split": "train",
                                                  "path": "data/train-*.parquet"}]
    splits = datasets.load_dataset(str(format1_zoo), cache_dir=str(tmp_path))
    assert {k: len(v) for k, v in splits.items()} == {"train": 30}
    code, out, err = cli(capsys, "info", str(format1_zoo), "--png", str(tmp_path / "h.png"))
    assert code == 0, err
    assert "train 24, val 3, test 3" in out and "verified (9 shards)" in out
