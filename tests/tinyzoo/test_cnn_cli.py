"""``tinyzoo import small-cnn-zoo``: imports from a folder, a local ``.tar.xz`` and an
HTTP server (the archive's URL or its folder's), resumed downloads, and refusals of
damaged sources: one ``tinyzoo: error:`` line naming the file, exit code 2, and no
zoo marked complete."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.cnn_fixture import (
    layout_frame,
    write_archive,
    write_published,
    write_split_file,
)
from tests.fixtures.http_server import ZooServer
from zoo_data.archive.manifest import read_manifest
from zoo_data.cnn.importer import staging_folder
from zoo_data.errors import TinyZooError
from zoo_data.zoo import load_zoo

RUNS = 20
ARCHIVE = "cifar10.tar.xz"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> SimpleNamespace:
    """Published files of ``RUNS`` runs, an NFN split file, and the archive in a
    folder of its own (what the server serves); never modified."""
    root = tmp_path_factory.mktemp("cnn-cli")
    src = root / "src"
    pub = write_published(src, runs=RUNS, seed=5)
    split_file = root / "cifar10_split.csv"
    write_split_file(split_file, len(pub["weights"]))
    served = root / "served"
    served.mkdir()
    blob = write_archive(src, served / ARCHIVE)
    return SimpleNamespace(src=src, split_file=split_file, served=served,
                           archive=served / ARCHIVE, sha=hashlib.sha256(blob).hexdigest(),
                           size=len(blob), rows=len(pub["weights"]))


@pytest.fixture
def server(source):
    srv = ZooServer(source.served).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def direct(source, tmp_path_factory) -> Path:
    """The zoo imported straight from the folder of files; never modified."""
    out = tmp_path_factory.mktemp("direct") / "zoo"
    code = _import(source, str(source.src), out)
    assert code == 0
    return out


def _import(source, src: str, out: Path, *extra: str, capsys=None):
    args = ["import", "small-cnn-zoo", src, "--dataset", "cifar10", "--out", str(out),
            "--split-file", str(source.split_file), "--group-size", "6", "--quiet", *extra]
    if capsys is None:
        from tinyzoo.cli import main

        return main(args)
    return cli(capsys, *args)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_not_complete(out: Path) -> None:
    """No zoo marked complete in ``out``: no manifest, or one saying incomplete."""
    if (out / "manifest.json").exists():
        assert read_manifest(out)["complete"] is False
    with pytest.raises(TinyZooError):
        load_zoo(out)


# --------------------------------------------------------------------------- success


def test_import_from_a_folder_prints_the_zoo_and_loads(source, direct, tmp_path, capsys):
    out = tmp_path / "zoo"
    code, stdout, err = _import(source, str(source.src), out, capsys=capsys)
    assert code == 0, err
    assert "imported 20 networks of cifar10 at step 86 as zoo small-cnn-cifar10" in stdout
    assert "train 8, val 2, test 10" in stdout
    assert tree(out) == tree(direct)
    assert len(load_zoo(out)) == RUNS


def test_import_from_a_local_archive_with_its_sha256_equals_the_folder_import(
        source, direct, tmp_path, capsys):
    out = tmp_path / "zoo"
    code, _, err = _import(source, str(source.archive), out, "--sha256", source.sha,
                           capsys=capsys)
    assert code == 0, err
    assert tree(out) == tree(direct)
    assert not staging_folder(out).exists()


def test_checkpoint_and_runs_split_options(source, tmp_path, capsys):
    out = tmp_path / "zoo"
    code, stdout, err = cli(capsys, "import", "small-cnn-zoo", str(source.src), "--out",
                            str(out), "--checkpoint", "20", "--split", "runs", "--quiet")
    assert code == 0, err
    assert "at step 20 as zoo small-cnn-cifar10-runs" in stdout
    assert "train 16, val 2, test 2" in stdout
    zoo = load_zoo(out)
    config = read_manifest(out)["config"]
    assert config["checkpoint"] == 20 and config["split"] == "runs"
    assert (zoo.metadata["step"] == 20).all()


# --------------------------------------------------------------------------- refusals


def _copy_src(source, tmp_path: Path) -> Path:
    return Path(shutil.copytree(source.src, tmp_path / "src"))


def _truncated_weights(source, tmp_path):
    src = _copy_src(source, tmp_path)
    blob = (src / "weights.npy").read_bytes()
    (src / "weights.npy").write_bytes(blob[:-1000])
    return [str(src)], "weights.npy"


def _metrics_one_row_short(source, tmp_path):
    src = _copy_src(source, tmp_path)
    frame = pd.read_csv(src / "metrics.csv.gz", index_col=0)
    assert len(frame) == source.rows
    frame.iloc[:-1].to_csv(src / "metrics.csv.gz", compression="gzip")
    return [str(src)], "metrics.csv.gz"


def _layout_wrong_size(source, tmp_path):
    # one kernel's end_idx and shape changed together: its slice still matches its
    # shape, but the slices no longer sum to 4970
    src = _copy_src(source, tmp_path)
    layout = layout_frame()
    k = layout.index[layout["varname"] == "sequential/dense/kernel:0"][0]
    layout.loc[k, "end_idx"] -= 16
    layout.loc[k, "size"] -= 16
    layout.loc[k, "shape"] = "(16, 9)"
    layout.to_csv(src / "layout.csv", index=False)
    return [str(src)], "layout.csv"


def _layout_gap(source, tmp_path):
    # every slice has its shape's size and shape, but one is shifted by one weight
    src = _copy_src(source, tmp_path)
    layout = layout_frame()
    k = layout.index[layout["varname"] == "sequential/dense/kernel:0"][0]
    layout.loc[k, "start_idx"] += 1
    layout.loc[k, "end_idx"] += 1
    layout.to_csv(src / "layout.csv", index=False)
    return [str(src)], "layout.csv"


def _layout_wrong_kernel_shape(source, tmp_path):
    src = _copy_src(source, tmp_path)
    layout = layout_frame()
    k = layout.index[layout["varname"] == "sequential/dense/kernel:0"][0]
    layout.loc[k, "shape"] = "(10, 16)"  # same size, transposed
    layout.to_csv(src / "layout.csv", index=False)
    return [str(src)], "layout.csv"


def _archive_wrong_sha(source, tmp_path):
    return [str(source.archive), "--sha256", "0" * 64], ARCHIVE


def _split_index_beyond_rows(source, tmp_path):
    split = tmp_path / "bad_split.csv"
    split.write_text(source.split_file.read_text() + f"{source.rows}\n")
    return [str(source.src), "--split-file", str(split)], "bad_split.csv"


def _unknown_dataset(source, tmp_path):
    return [str(source.src), "--dataset", "cifar100"], "cifar100"


def _unpublished_checkpoint(source, tmp_path):
    return [str(source.src), "--checkpoint", "5"], "checkpoint 5"


REFUSALS = {
    "truncated weights.npy": _truncated_weights,
    "metrics one row short": _metrics_one_row_short,
    "layout not summing to 4970": _layout_wrong_size,
    "layout with a gap": _layout_gap,
    "layout with a wrong kernel shape": _layout_wrong_kernel_shape,
    "archive sha256 mismatch": _archive_wrong_sha,
    "split index beyond the rows": _split_index_beyond_rows,
    "unknown dataset": _unknown_dataset,
    "unpublished checkpoint": _unpublished_checkpoint,
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_are_one_line_exit_2_and_leave_no_complete_zoo(case, source, tmp_path,
                                                                 capsys):
    args, named = REFUSALS[case](source, tmp_path)
    out = tmp_path / "zoo"
    code, stdout, err = _import(source, *args[:1], out, *args[1:], capsys=capsys)
    line = one_line_error(code, err)
    assert named in line, line
    assert "imported" not in stdout
    assert_not_complete(out)


def test_a_corrected_archive_at_the_same_path_is_imported_after_a_refusal(
        source, direct, tmp_path, capsys):
    """A refused archive's extracted files must not stand in for the next archive's:
    after fixing the archive (its new sha256 given), the import reads the new files."""
    bad_src = _layout_wrong_kernel_shape(source, tmp_path)[0][0]
    archive = tmp_path / ARCHIVE
    write_archive(Path(bad_src), archive)
    out = tmp_path / "zoo"
    code, _, err = _import(source, str(archive), out, capsys=capsys)
    assert "layout.csv" in one_line_error(code, err)
    assert_not_complete(out)

    fixed = write_archive(source.src, archive)
    code, _, err = _import(source, str(archive), out, "--sha256",
                           hashlib.sha256(fixed).hexdigest(), capsys=capsys)
    assert code == 0, err
    assert tree(out) == tree(direct)


def test_another_archive_after_a_refused_import_is_the_one_imported(source, tmp_path,
                                                                   capsys):
    """An import refused after extraction (an unpublished --checkpoint) must not make
    the next import into the same folder read the first archive's files instead of
    the archive it is given (and verified by --sha256)."""
    out = tmp_path / "zoo"
    code, _, err = _import(source, str(source.archive), out, "--checkpoint", "5",
                           capsys=capsys)
    assert "checkpoint 5" in one_line_error(code, err)

    other = tmp_path / "other"
    write_published(other, runs=RUNS, seed=9)
    archive = tmp_path / "other.tar.xz"
    blob = write_archive(other, archive)
    code, _, err = cli(capsys, "import", "small-cnn-zoo", str(archive), "--out", str(out),
                       "--split", "runs", "--sha256", hashlib.sha256(blob).hexdigest(),
                       "--quiet")
    assert code == 0, err
    sources = read_manifest(out)["config"]["sources"]
    assert sources["weights.npy"] == hashlib.sha256(
        (other / "weights.npy").read_bytes()).hexdigest()


def test_split_file_needs_the_nfn_split(source, tmp_path, capsys):
    out = tmp_path / "zoo"
    code, _, err = _import(source, str(source.src), out, "--split", "runs", capsys=capsys)
    assert "--split-file" in one_line_error(code, err)
    assert_not_complete(out)


# --------------------------------------------------------------------------- download


@pytest.mark.parametrize("as_url", ["base", "base/", "archive"])
def test_download_with_sha256_equals_the_direct_import(as_url, source, direct, server,
                                                       tmp_path, capsys):
    url = {"base": server.url, "base/": server.url + "/",
           "archive": f"{server.url}/{ARCHIVE}"}[as_url]
    out = tmp_path / "zoo"
    code, _, err = _import(source, url, out, "--sha256", source.sha, capsys=capsys)
    assert code == 0, err
    assert server.gets(f"/{ARCHIVE}") == [None]
    assert tree(out) == tree(direct)
    assert not staging_folder(out).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["zoo"]


def test_download_with_a_wrong_sha256_is_refused(source, server, tmp_path, capsys):
    out = tmp_path / "zoo"
    code, _, err = _import(source, server.url, out, "--sha256", "f" * 64, capsys=capsys)
    line = one_line_error(code, err)
    assert f"{server.url}/{ARCHIVE}" in line and "sha256" in line
    assert_not_complete(out)
    # nothing of the refused download is kept to be taken for the archive later (only
    # the record of the URL it came from)
    kept = staging_folder(out).glob(f"{ARCHIVE}*")
    assert [p.name for p in kept if not p.name.endswith(".url")] == []


def test_cut_download_resumes_with_a_range_request(source, direct, server, tmp_path,
                                                  capsys):
    out = tmp_path / "zoo"
    server.cut_once.add(f"/{ARCHIVE}")
    code, _, err = _import(source, server.url, out, "--sha256", source.sha, capsys=capsys)
    line = one_line_error(code, err)
    assert ARCHIVE in line and "resume" in line
    assert_not_complete(out)
    part = staging_folder(out) / f"{ARCHIVE}.part"
    assert part.is_file() and 0 < part.stat().st_size < source.size

    server.requests.clear()
    code, _, err = _import(source, server.url, out, "--sha256", source.sha, capsys=capsys)
    assert code == 0, err
    ranges = server.gets(f"/{ARCHIVE}")
    assert len(ranges) == 1 and ranges[0].startswith("bytes=") and ranges[0].endswith("-")
    start = int(ranges[0][len("bytes="):-1])
    assert start == source.size // 2 and start > 0
    assert tree(out) == tree(direct)
    assert not staging_folder(out).exists()



def test_a_download_from_another_url_replaces_the_earlier_one(source, server, tmp_path,
                                                               capsys):
    """An archive downloaded for a refused import is not reused for another URL: the
    second import (no --sha256) reads the archive at its own URL."""
    out = tmp_path / "zoo"
    code, _, err = _import(source, server.url, out, "--checkpoint", "5", capsys=capsys)
    assert "checkpoint 5" in one_line_error(code, err)

    other = tmp_path / "other"
    write_published(other, runs=RUNS, seed=11)
    (source.served / "elsewhere").mkdir(exist_ok=True)
    write_archive(other, source.served / "elsewhere" / ARCHIVE)
    try:
        code, _, err = cli(capsys, "import", "small-cnn-zoo", f"{server.url}/elsewhere",
                           "--out", str(out), "--split", "runs", "--quiet")
        assert code == 0, err
    finally:
        shutil.rmtree(source.served / "elsewhere")
    sources = read_manifest(out)["config"]["sources"]
    assert sources["weights.npy"] == hashlib.sha256(
        (other / "weights.npy").read_bytes()).hexdigest()
