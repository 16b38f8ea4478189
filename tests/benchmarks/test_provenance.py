"""The board's test labels have provenance (benchmarks/provenance.py): a record is ranked
only if its labels are its zoo's by the committed manifest and label file; tampered
labels, label files, manifests and test sets are refused in one line; a zoo without a
label file leaves its records unverified and unranked."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.board import UNVERIFIED, VERIFIED, leaderboard_frame
from benchmarks.provenance import check_record_labels, label_paths, publish_labels
from benchmarks.recompute import check_records
from benchmarks.results import write_result, zoo_info
from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.records import record_of_predictions
from zoo_data.errors import TinyZooError

COMMITTED = Path(__file__).resolve().parents[2] / "leaderboard" / "results"


@pytest.fixture
def board(bench_test, tmp_path) -> tuple[Path, dict]:
    """A results folder with one record on the bench zoo and the zoo's label files."""
    results = tmp_path / "results"
    actual = np.asarray(bench_test.labels, np.float64)
    record = record_of_predictions(zoo_info(bench_test), "unf", "weights",
                                   [actual, actual ** 2], bench_test)
    write_result(record, results)
    assert publish_labels(bench_test, results) == label_paths(results, record["zoo"])[1]
    return results, record


def test_a_record_on_a_labelled_zoo_is_verified_and_ranked(board):
    results, record = board
    assert check_records([record], results) == {}
    frame = leaderboard_frame([record], {})
    assert frame.loc[0, "labels"] == VERIFIED and frame.loc[0, "rank"] == 1


def _refused(results, record) -> str:
    with pytest.raises(TinyZooError) as err:
        check_record_labels(record, results, "r.json")
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_changed_label_is_refused_naming_the_model(board):
    results, record = board
    forged = copy.deepcopy(record)
    forged["predictions"]["actual_sr"][2] = 0.999
    line = _refused(results, forged)
    model = record["predictions"]["model_id"][2]
    assert line.startswith(f"r.json: predictions.actual_sr[2] (model_id {model}) is 0.999")


def test_a_test_set_without_its_hardest_model_is_refused(board):
    results, record = board
    forged = copy.deepcopy(record)
    for key in ("model_id", "actual_sr"):
        forged["predictions"][key] = list(forged["predictions"][key])[1:]
    assert "are not the 6 test rows of split scheme 'id-ranges'" in _refused(results, forged)


def test_a_forged_label_file_or_manifest_copy_is_refused(board):
    results, record = board
    manifest, labels = label_paths(results, record["zoo"])
    original = labels.read_bytes()
    labels.write_bytes(original.replace(b"\n54,", b"\n54,0.999", 1)[:len(original)])
    assert "not the manifest's labels_sha256" in _refused(results, record)
    labels.write_bytes(original)
    text = json.loads(manifest.read_text())
    text["labels_sha256"] = "0" * 64
    manifest.write_text(json.dumps(text))
    assert "not that zoo's manifest" in _refused(results, record)


def test_a_zoo_without_a_label_file_is_unverified_and_unranked(board, tmp_path, capsys):
    results, record = board
    for path in label_paths(results, record["zoo"]):
        path.unlink()
    reason = check_record_labels(record, results, "r.json")
    assert reason.startswith("no label file of zoo bench-test-")
    code, _, err = cli(capsys, "leaderboard", "--results-dir", str(results), "--out",
                       str(tmp_path / "board"))
    assert code == 0, err
    markdown = (tmp_path / "board" / "LEADERBOARD.md").read_text()
    row = next(line for line in markdown.splitlines() if "[UNF" in line)
    assert row.startswith("| — | [UNF — *unverified labels*]")
    assert "they are not ranked" in markdown
    frame = leaderboard_frame([record], {"x": "y"} | check_records([record], results))
    assert frame.loc[0, "labels"] == UNVERIFIED and frame["rank"].isna().all()


def test_the_leaderboard_publishes_the_labels_of_a_verified_zoo_folder(
        board, bench_zoo_dir, tmp_path, capsys):
    results, record = board
    for path in label_paths(results, record["zoo"]):
        path.unlink()
    zoos = tmp_path / "zoos"
    zoos.mkdir()
    (zoos / "bench").symlink_to(bench_zoo_dir, target_is_directory=True)
    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results), "--out",
                         str(tmp_path / "board"), "--zoos", str(zoos))
    assert code == 0, err
    assert "the label file of a verified zoo" in out
    assert check_records([record], results) == {}


def test_a_tampered_summary_is_refused_by_the_leaderboard_command(board, tmp_path, capsys):
    results, record = board
    path = next(results.glob("*.json"))
    forged = json.loads(path.read_text())
    forged["summary"]["test_kendall_tau"]["mean"] = 0.95
    path.write_text(json.dumps(forged))
    code, _, err = cli(capsys, "leaderboard", "--results-dir", str(results), "--out",
                       str(tmp_path / "board"))
    line = one_line_error(code, err)
    assert str(path) in line and "summary.test_kendall_tau.mean is 0.95" in line
    assert not (tmp_path / "board").exists()  # nothing written


def test_the_committed_board_passes_every_check():
    from benchmarks.results import read_results

    records = read_results(COMMITTED)
    unverified = check_records(records, COMMITTED)
    # only records of zoos built before label files may be unverified
    for name in unverified:
        record = next(r for r in records if name.endswith(f"__{r['method']}.json")
                      and name.startswith(f"{r['zoo']['preset']}-"
                                          f"{r['zoo']['manifest_sha256'][:8]}"))
        manifest, _ = label_paths(COMMITTED, record["zoo"])
        assert not manifest.is_file(), name
