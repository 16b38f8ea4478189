"""Importing the Small CNN Zoo (Unterthiner et al. 2020) from files in its published
layout (:mod:`tests.fixtures.cnn_fixture`): every tensor and label is the published
value of its row, NFN's split and ours follow their rules (implemented here again,
independently of :mod:`zoo_data.cnn.splits`), imports are deterministic and resume
after an interruption, and the card and manifest record the license, citation and
every source file's sha256."""

from __future__ import annotations

import ast
import hashlib
import json
import random
import shutil
from pathlib import Path
from types import SimpleNamespace

import datasets
import numpy as np
import pytest

from tests.fixtures.cnn_fixture import STEPS, write_published, write_split_file
from zoo_data import load_zoo
from zoo_data.archive import writer
from zoo_data.archive.manifest import read_manifest
from zoo_data.cnn.importer import import_small_cnn_zoo, staging_folder
from zoo_data.errors import TinyZooError

RUNS = 40
LAST = STEPS[-1]  # 86
TENSOR_PATHS = {f"{layer}/{kind}" for layer in ("conv2d", "conv2d_1", "conv2d_2", "dense")
                for kind in ("kernel", "bias")}


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> SimpleNamespace:
    """The published files of ``RUNS`` runs and an NFN split file; never modified."""
    root = tmp_path_factory.mktemp("cnn")
    src = root / "src"
    pub = write_published(src, runs=RUNS)
    split_file = root / "cifar10_split.csv"
    write_split_file(split_file, len(pub["weights"]))
    return SimpleNamespace(src=src, split_file=split_file, weights=pub["weights"],
                           metrics=pub["metrics"], layout=pub["layout"],
                           steps=pub["metrics"]["step"].to_numpy())


def run_import(src: Path, out: Path, split_file: Path | None = None, **kwargs):
    kwargs.setdefault("split", "nfn" if split_file is not None else "runs")
    return import_small_cnn_zoo(str(src), "cifar10", out, progress=False,
                                split_file=None if split_file is None else str(split_file),
                                **kwargs)


def tree(folder: Path) -> dict[str, bytes]:
    """``{relative path: bytes}`` of every file under ``folder`` (hidden ones too)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def split_file_indices(path: Path) -> list[int]:
    """Every line of an NFN split file as an index (NFN: ``read_csv(header=None)``, so
    the stray first ``0`` is an index too)."""
    return [int(line) for line in path.read_text().split()]


def nfn_reference(indices: list[int], steps: np.ndarray, checkpoint: int):
    """NFN's split, from its description: ``(train, val, test)`` lists of published
    rows in NFN's order."""
    rows = [i for i in indices if steps[i] == checkpoint]
    n = len(rows)
    test = rows[int(0.5 * n):]
    t = list(range(int(0.5 * n)))
    random.Random(0).shuffle(t)
    cut = int(0.8 * len(t))
    return [rows[i] for i in t[:cut]], [rows[i] for i in t[cut:]], test


def ordered(zoo, column: str) -> list:
    """``column`` of every model, by model id (which must be 0, 1, ...)."""
    meta = zoo.metadata.sort_index()
    assert list(meta.index) == list(range(len(meta)))
    return meta[column].tolist()


def assert_round_trip(out: Path, pub: SimpleNamespace, checkpoint: int) -> None:
    """Every tensor of every row is its published slice, bit for bit; ``test_sr`` is the
    published ``test_accuracy``; every row is at ``checkpoint``; ``datasets`` reads the
    three splits with the manifest's counts."""
    zoo = load_zoo(out)
    meta = zoo.metadata.sort_index()
    ids = meta.index.to_numpy()
    assert list(ids) == list(range(read_manifest(out)["num_models"]))
    source = meta["source_index"].to_numpy()
    tensors = zoo.tensors(ids)
    assert set(tensors) == TENSOR_PATHS
    for row in pub.layout.itertuples():
        path = row.varname.split("/", 1)[1].split(":")[0]  # sequential/conv2d/bias:0
        shape = ast.literal_eval(row.shape)
        want = pub.weights[source, row.start_idx:row.end_idx].reshape(len(ids), *shape)
        got = tensors[path]
        assert got.dtype == np.float32 and got.shape == want.shape, path
        assert got.tobytes() == want.astype(np.float32).tobytes(), path
    accuracy = pub.metrics["test_accuracy"].to_numpy()[source]
    assert meta["test_sr"].to_numpy(np.float32).tobytes() == \
        accuracy.astype(np.float32).tobytes()
    assert (pub.steps[source] == checkpoint).all()
    assert (meta["step"] == checkpoint).all()
    assert meta["modeldir"].tolist() == pub.metrics["modeldir"].to_numpy()[source].tolist()

    counts = {name: read_manifest(out)["splits"][key]["count"]
              for name, key in (("train", "train"), ("validation", "val"), ("test", "test"))}
    splits = datasets.load_dataset(str(out), cache_dir=str(out.parent / f"hf-{out.name}"))
    assert {k: v.num_rows for k, v in splits.items()} == counts
    lo = 0
    for name in ("train", "validation", "test"):  # id ranges, in this order
        assert sorted(splits[name]["model_id"]) == list(range(lo, lo + counts[name]))
        lo += counts[name]


# --------------------------------------------------------------------------- round trip


def test_nfn_import_round_trips_every_tensor_and_label(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out, published.split_file, group_size=16)
    assert config.checkpoint == LAST and config.split == "nfn"
    assert_round_trip(out, published, LAST)
    assert not staging_folder(out).exists()


def test_runs_import_round_trips_at_an_explicit_checkpoint(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out, checkpoint=20, group_size=7)
    assert config.checkpoint == 20 and config.num_models == RUNS
    assert_round_trip(out, published, 20)


def test_nfn_import_at_an_explicit_checkpoint(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out, published.split_file, checkpoint=20)
    assert config.checkpoint == 20
    zoo = load_zoo(out)
    train, val, test = nfn_reference(split_file_indices(published.split_file),
                                     published.steps, 20)
    assert ordered(zoo, "source_index") == train + val + test
    assert (published.steps[ordered(zoo, "source_index")] == 20).all()


# --------------------------------------------------------------------------- NFN split


def test_nfn_split_matches_nfns_rule_in_order(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out, published.split_file, group_size=9)
    indices = split_file_indices(published.split_file)
    assert indices[0] == 0 and len(indices) == len(published.weights) + 1
    train, val, test = nfn_reference(indices, published.steps, LAST)
    n = len(train) + len(val) + len(test)
    assert n == RUNS  # every run once at its last step (the stray 0 is row 0, step 0)
    assert (len(train), len(val), len(test)) == (0.4 * n, 0.1 * n, 0.5 * n)
    assert config.split_counts == (len(train), len(val), len(test))
    assert config.repeated_rows == 0

    zoo = load_zoo(out)
    assert ordered(zoo, "source_index") == train + val + test
    for split, rows, lo in (("train", train, 0), ("val", val, len(train)),
                            ("test", test, len(train) + len(val))):
        part = load_zoo(out, split=split)
        assert list(part.model_ids) == list(range(lo, lo + len(rows)))
        assert part.metadata["source_index"].tolist() == rows
    manifest = read_manifest(out)
    assert [manifest["splits"][s]["count"] for s in ("train", "val", "test")] == [16, 4, 20]


def test_nfn_split_keeps_a_final_step_row_listed_twice(published, tmp_path):
    n_rows = len(published.weights)
    perm = np.random.default_rng(7).permutation(n_rows).tolist()
    twice = 8 * len(STEPS) + len(STEPS) - 1  # run 8 at step 86
    assert published.steps[twice] == LAST
    indices = [0, *perm[:100], twice, *perm[100:]]  # row `twice` listed a second time
    split_file = tmp_path / "split.csv"
    split_file.write_text("\n".join(map(str, indices)) + "\n")
    out = tmp_path / "zoo"
    config = run_import(published.src, out, split_file)
    assert config.repeated_rows == 1
    assert read_manifest(out)["config"]["repeated_rows"] == 1
    assert config.num_models == RUNS + 1
    train, val, test = nfn_reference(indices, published.steps, LAST)
    assert config.split_counts == (len(train), len(val), len(test)) == (16, 4, 21)
    source = ordered(load_zoo(out), "source_index")
    assert source == train + val + test
    assert source.count(twice) == 2
    assert_round_trip(out, published, LAST)


def test_nfn_split_counts_the_stray_zero_at_step_zero(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out, published.split_file, checkpoint=0)
    assert published.steps[0] == 0
    assert config.repeated_rows == 1 and config.num_models == RUNS + 1
    source = ordered(load_zoo(out), "source_index")
    assert source.count(0) == 2
    assert source == sum(nfn_reference(split_file_indices(published.split_file),
                                       published.steps, 0), [])


# --------------------------------------------------------------------------- our split


def write_runs_permuted(published: SimpleNamespace, folder: Path, seed: int) -> np.ndarray:
    """The published files with the runs in another order (each run's rows kept
    together); returns the new order's published rows."""
    folder.mkdir(parents=True)
    order = np.random.default_rng(seed).permutation(RUNS)
    assert (order != np.arange(RUNS)).any()
    rows = (order[:, None] * len(STEPS) + np.arange(len(STEPS))).ravel()
    np.save(folder / "weights.npy", published.weights[rows])
    published.metrics.iloc[rows].reset_index(drop=True).to_csv(
        folder / "metrics.csv.gz", compression="gzip")
    shutil.copyfile(published.src / "layout.csv", folder / "layout.csv")
    return rows


def test_runs_split_is_80_10_10_by_hash_of_modeldir(published, tmp_path):
    out = tmp_path / "zoo"
    config = run_import(published.src, out)
    assert config.split == "runs" and config.split_counts == (32, 4, 4)
    assert config.repeated_rows == 0
    runs = sorted({f"run_{r:05d}" for r in range(RUNS)},
                  key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    zoo = load_zoo(out)
    assert ordered(zoo, "modeldir") == runs
    assert len(set(ordered(zoo, "source_index"))) == RUNS
    for split, (lo, hi) in (("train", (0, 32)), ("val", (32, 36)), ("test", (36, 40))):
        assert load_zoo(out, split=split).metadata["modeldir"].tolist() == runs[lo:hi]
    assert "split.csv" not in config.to_dict()["sources"]


def test_runs_split_depends_on_modeldir_only(published, tmp_path):
    shuffled = tmp_path / "shuffled"
    rows = write_runs_permuted(published, shuffled, seed=3)
    a, b = tmp_path / "a", tmp_path / "b"
    run_import(published.src, a)
    run_import(shuffled, b)
    za, zb = load_zoo(a), load_zoo(b)
    for split in ("train", "val", "test"):
        assert set(load_zoo(a, split=split).metadata["modeldir"]) == \
            set(load_zoo(b, split=split).metadata["modeldir"])
    assert ordered(za, "modeldir") == ordered(zb, "modeldir")
    # the same networks under the same ids, found at their new rows
    assert rows[ordered(zb, "source_index")].tolist() == ordered(za, "source_index")
    ta, tb = za.tensors(za.model_ids), zb.tensors(zb.model_ids)
    for path in TENSOR_PATHS:
        assert ta[path].tobytes() == tb[path].tobytes(), path
    assert za.metadata["test_sr"].tolist() == zb.metadata["test_sr"].tolist()


# --------------------------------------------------------------------------- determinism


@pytest.fixture(scope="module")
def reference_zoo(published, tmp_path_factory) -> Path:
    """An uninterrupted NFN import in five groups; never modified."""
    out = tmp_path_factory.mktemp("reference") / "zoo"
    run_import(published.src, out, published.split_file, group_size=8)
    return out


def test_two_imports_are_byte_identical(published, reference_zoo, tmp_path):
    out = tmp_path / "zoo"
    run_import(published.src, out, published.split_file, group_size=8)
    a, b = tree(reference_zoo), tree(out)
    assert "manifest.json" in a and any(k.endswith(".parquet") for k in a)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    assert read_manifest(out)["complete"] is True


def test_import_with_a_lost_group_is_finished_by_running_it_again(
        published, reference_zoo, tmp_path):
    out = Path(shutil.copytree(reference_zoo, tmp_path / "zoo"))
    data = out / "data"
    victim = next(p for p in sorted(data.glob("*.parquet")) if "-00001-of-" in p.name)
    victim.unlink()
    (data / f".{victim.stem}.json").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["complete"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TinyZooError):
        load_zoo(out)

    run_import(published.src, out, published.split_file, group_size=8)
    assert tree(out) == tree(reference_zoo)


def test_interrupted_import_resumes_to_the_same_bytes(published, reference_zoo, tmp_path,
                                                     monkeypatch):
    real = writer.write_group
    written: list[int] = []

    def interrupted(zoo_dir, layout, group_index, table):
        if written:
            raise KeyboardInterrupt
        written.append(group_index)
        return real(zoo_dir, layout, group_index, table)

    monkeypatch.setattr(writer, "write_group", interrupted)
    out = tmp_path / "zoo"
    with pytest.raises(KeyboardInterrupt):
        run_import(published.src, out, published.split_file, group_size=8)
    assert written == [0]
    assert read_manifest(out)["complete"] is False
    with pytest.raises(TinyZooError):
        load_zoo(out)

    resumed: list[int] = []

    def spy(zoo_dir, layout, group_index, table):
        resumed.append(group_index)
        return real(zoo_dir, layout, group_index, table)

    monkeypatch.setattr(writer, "write_group", spy)
    run_import(published.src, out, published.split_file, group_size=8)
    assert resumed == [1, 2, 3, 4]  # the complete group is kept, not written again
    assert tree(out) == tree(reference_zoo)


# --------------------------------------------------------------------------- card, sources


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_card_names_license_and_citation_and_manifest_records_sources(
        published, reference_zoo):
    card = (reference_zoo / "README.md").read_text()
    assert "license: cc-by-4.0" in card
    assert "CC BY 4.0" in card
    assert "@misc{unterthiner2020predicting," in card
    sources = read_manifest(reference_zoo)["config"]["sources"]
    assert sources == {
        "weights.npy": sha256_of(published.src / "weights.npy"),
        "metrics.csv.gz": sha256_of(published.src / "metrics.csv.gz"),
        "layout.csv": sha256_of(published.src / "layout.csv"),
        "split.csv": sha256_of(published.split_file),
    }
    for name, sha in sources.items():  # the card lists them too
        assert f"| `{name}` | `{sha}` |" in card


def test_runs_import_records_the_three_source_files(published, tmp_path):
    out = tmp_path / "zoo"
    run_import(published.src, out)
    assert read_manifest(out)["config"]["sources"] == {
        name: sha256_of(published.src / name)
        for name in ("weights.npy", "metrics.csv.gz", "layout.csv")}
    card = (out / "README.md").read_text()
    assert "license: cc-by-4.0" in card and "unterthiner2020predicting" in card


def test_committed_small_cnn_split_definitions_match_the_code():
    """data/splits/small-cnn-zoo.json must not go stale (python -m zoo_data.cnn.splits)."""
    import json

    from zoo_data.cnn.splits import NFN_SPLIT_FILES, split_definitions

    path = Path(__file__).resolve().parents[2] / "data" / "splits" / "small-cnn-zoo.json"
    committed = json.loads(path.read_text())
    assert committed == split_definitions()
    files = committed["methods"]["nfn"]["split_files"]
    assert set(files) == {"cifar10", "svhn_cropped", "mnist", "fashion_mnist"}
    assert files["cifar10"]["sha256"] == NFN_SPLIT_FILES["cifar10"][1]
