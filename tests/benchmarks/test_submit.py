"""``tinyzoo submit``: a valid CSV becomes a submission record; every kind of bad file is
refused with one line listing all its problems, exit code 2, and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from benchmarks.results import build_record, write_result, zoo_info
from tests.fixtures.submissions import write_csv
from tinyzoo.cli import main

TEST_IDS = list(range(54, 60))


def run_submit(capsys, csv: Path, zoo: Path, results: Path, name: str = "my-pred"):
    code = main(["submit", "--predictions", str(csv), "--zoo", str(zoo), "--name", name,
                 "--results-dir", str(results)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(capsys, csv, zoo, results, name="my-pred") -> str:
    code, out, err = run_submit(capsys, csv, zoo, results, name)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinyzoo: error: ") and "Traceback" not in err
    assert not results.exists() or not any(results.iterdir()), "something was written"
    return lines[0]


def good_rows(zoo_test, noise: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    pred = np.clip(zoo_test.labels + rng.normal(0, noise, len(zoo_test)), 0, 1)
    return list(zip(zoo_test.model_ids.tolist(), pred.tolist(), strict=True)), pred


def test_valid_submission_writes_a_submission_record(capsys, tmp_path, bench_zoo_dir,
                                                     bench_test) -> None:
    rows, pred = good_rows(bench_test, noise=0.2)
    csv = write_csv(tmp_path / "p.csv", rows[::-1],  # any order
                    comment=f"# zoo_manifest_sha256={bench_test.manifest_sha256}")
    code, out, err = run_submit(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert code == 0, err
    tau = scipy.stats.kendalltau(pred, bench_test.labels).statistic
    assert f"my-pred: test Kendall's tau {tau:.4f} on 6 test models" in out
    path = tmp_path / "results" / f"bench-test-{bench_test.manifest_sha256[:8]}__my-pred.json"
    assert f"wrote {path}" in out
    record = json.loads(path.read_text())
    assert record["kind"] == "submission" and record["protocol"] is None
    assert record["seeds"] == [] and len(record["runs"]) == 1
    assert record["runs"][0]["val"] is None
    assert record["runs"][0]["test"]["kendall_tau"] == pytest.approx(tau)
    assert record["runs"][0]["test"]["n"] == 6
    assert record["summary"]["test_kendall_tau"] == {"mean": pytest.approx(tau), "std": None,
                                                     "n": 1}
    assert record["zoo"] == zoo_info(bench_test)
    assert record["predictions"]["model_id"] == TEST_IDS
    assert record["predictions"]["predicted_sr"] == [pytest.approx(pred.tolist())]
    assert record["predictions"]["actual_sr"] == pytest.approx(bench_test.labels.tolist())


def test_header_in_either_order_crlf_bom_and_short_sha(capsys, tmp_path, bench_zoo_dir,
                                                       bench_test) -> None:
    rows, _ = good_rows(bench_test)
    text = (f"# zoo_manifest_sha256 = {bench_test.manifest_sha256[:8].upper()}\r\n"
            " predicted_sr , model_id \r\n"
            + "".join(f"{v},{i}\r\n" for i, v in rows) + "\r\n")
    csv = tmp_path / "p.csv"
    csv.write_bytes(b"\xef\xbb\xbf" + text.encode())
    code, out, err = run_submit(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert code == 0, err
    assert "test Kendall's tau 1.0000" in out


def test_constant_predictions_are_scored_with_undefined_tau(capsys, tmp_path, bench_zoo_dir
                                                            ) -> None:
    csv = write_csv(tmp_path / "p.csv", [(i, 0.5) for i in TEST_IDS])
    code, out, err = run_submit(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert code == 0, err
    assert "test Kendall's tau undefined (constant predictions rank nothing)" in out
    (path,) = (tmp_path / "results").glob("*.json")
    assert json.loads(path.read_text())["runs"][0]["test"]["kendall_tau"] is None


def _rows(changes: dict[int, str | None] | None = None) -> list[str]:
    """The six test ids with value 0.5, then ``changes``: id -> value (None drops it)."""
    values: dict[int, str | None] = {i: "0.5" for i in TEST_IDS}
    values.update(changes or {})
    return [f"{i},{v}" for i, v in values.items() if v is not None]


# (file text, or rows for write_csv; substrings the one-line error must contain)
BAD_FILES = {
    "missing ids": (_rows({55: None, 57: None}), ["missing ids 55, 57 (2)"]),
    "one missing id": (_rows({59: None}), ["missing id 59"]),
    "duplicate id": (_rows() + ["56,0.25"], ["duplicate id 56 (lines 4, 8)"]),
    "unknown id": (_rows() + ["999,0.5"], ["unknown id 999 (the zoo has ids 0-59)"]),
    "train id": (_rows() + ["3,0.5"],
                 ["id of a train-split model 3 (only the test split is scored)"]),
    "val ids": (_rows() + ["48,0.5", "49,0.5"],
                ["ids of val-split models 48-49 (2) (only the test split is scored)"]),
    "NaN": (_rows({56: "nan"}), ["NaN at line 4"]),
    "inf": (_rows({56: "-inf"}), ["inf at line 4"]),
    "non-numeric": (_rows({57: "high"}), ["value 'high' at line 5 is not a number"]),
    "empty value": (_rows({57: ""}), ["value '' at line 5 is not a number"]),
    "above 1": (_rows({58: "1.3"}), ["value 1.3 outside [0, 1] at line 6"]),
    "below 0": (_rows({54: "-0.01"}), ["value -0.01 outside [0, 1] at line 2"]),
    "three fields": (_rows() + ["54,0.5,extra"], ["3 fields at line 8 (expected 2)"]),
    "non-integer id": (_rows() + ["54.0,0.5"],
                       ["model id '54.0' at line 8 is not an integer"]),
    "huge id": (_rows() + ["9" * 30 + ",0.5"], [f"model id '{'9' * 20}' at line 8 is not"]),
    "wrong header": ("id,sr\n" + "".join(r + "\n" for r in _rows()),
                     ["header 'id,sr' at line 1: expected model_id,predicted_sr"]),
    "missing header": ("".join(r + "\n" for r in _rows()),
                       ["missing header line model_id,predicted_sr (line 1 holds data)"]),
    "empty file": ("", ["empty file"]),
    "blank file": ("\n  \n", ["empty file"]),
    "header only": ("model_id,predicted_sr\n",
                    ["no prediction rows (expected 6, one per test model)"]),
    "comment only": ("# zoo_manifest_sha256=" + "0" * 8 + "\n",
                     ["2 problems: ", "another zoo's",
                      "no header line model_id,predicted_sr and no prediction rows"]),
    "bad comment": ("# made by me\nmodel_id,predicted_sr\n" + "".join(
        r + "\n" for r in _rows()),
        ["comment at line 1 is not '# zoo_manifest_sha256=<sha256 of the zoo's "
         "manifest.json>'"]),
    "stray comment": ("model_id,predicted_sr\n# note\n" + "".join(r + "\n" for r in _rows()),
                      ["stray comment at line 2"]),
    "Arabic-Indic digits in an id": (_rows() + ["\u0665\u0664,0.5"],
                                     ["model id '\u0665\u0664' at line 8 is not an integer"]),
    "full-width digits in a value": (_rows({57: "\uff10.\uff15"}),
                                     ["value '\uff10.\uff15' at line 5 is not a number"]),
    "a field of 200 KB": (_rows() + ["54," + "1" * 200_000],
                          ["line 8 is longer than 1,000 characters"]),
    "another zoo's sha": ("# zoo_manifest_sha256=" + "0" * 64 + "\nmodel_id,predicted_sr\n"
                          + "".join(r + "\n" for r in _rows()),
                          ["zoo_manifest_sha256 000000000000... at line 1 is another zoo's"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_submission_is_refused_with_one_line(capsys, tmp_path, bench_zoo_dir,
                                                 case) -> None:
    content, expected = BAD_FILES[case]
    csv = tmp_path / "p.csv"
    if isinstance(content, str):
        csv.write_text(content)
    else:
        write_csv(csv, content)
    line = assert_refused(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert line.startswith(f"tinyzoo: error: {csv}: ")
    for text in expected:
        assert text in line, line
    if case != "comment only":
        assert "problems" not in line, line  # exactly one problem each


def test_all_problems_are_listed_in_one_line(capsys, tmp_path, bench_zoo_dir) -> None:
    csv = write_csv(tmp_path / "p.csv", [
        "54,0.5", "54,0.25", "55,nan", "12,0.5", "56,1.3", "58,abc", "59,0.5", "70,0.5",
    ])
    line = assert_refused(capsys, csv, bench_zoo_dir, tmp_path / "results")
    expected = [
        "7 problems: ", "missing id 57", "duplicate id 54 (lines 2, 3)",
        "id of a train-split model 12", "unknown id 70", "NaN at line 4",
        "value 1.3 outside [0, 1] at line 6", "value 'abc' at line 7 is not a number",
    ]
    for text in expected:
        assert text in line, line


def test_long_lists_are_shortened(capsys, tmp_path, bench_zoo_dir) -> None:
    rows = [f"{i},0.5" for i in range(0, 40, 2)]  # 20 train ids, all test ids missing
    line = assert_refused(capsys, write_csv(tmp_path / "p.csv", rows), bench_zoo_dir,
                          tmp_path / "results")
    assert "missing ids 54-59 (6)" in line
    assert "ids of train-split models 0, 2, 4, 6, 8, ... (20)" in line
    assert "no id of this zoo's test split (54-59): a file for another zoo?" in line
    assert len(line) < 400


def test_a_file_for_a_zoo_with_other_test_ids_is_refused(capsys, tmp_path, bench_zoo_dir,
                                                         smaller_zoo_dir) -> None:
    from zoo_data.zoo import open_local_zoo

    other = open_local_zoo(smaller_zoo_dir, "test")  # ids 27..29: train ids here
    rows, _ = good_rows(other)
    csv = write_csv(tmp_path / "p.csv", rows)
    assert run_submit(capsys, csv, smaller_zoo_dir, tmp_path / "elsewhere")[0] == 0
    line = assert_refused(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert "missing ids 54-59 (6)" in line
    assert "ids of train-split models 27-29 (3)" in line
    assert "a file for another zoo?" in line


def test_a_file_for_a_zoo_with_the_same_test_ids_is_caught_by_its_sha(
        capsys, tmp_path, bench_zoo_dir, twin_zoo_dir, bench_test) -> None:
    from zoo_data.zoo import open_local_zoo

    twin = open_local_zoo(twin_zoo_dir, "test")
    assert twin.model_ids.tolist() == TEST_IDS
    assert twin.manifest_sha256 != bench_test.manifest_sha256
    rows, _ = good_rows(twin)
    csv = write_csv(tmp_path / "p.csv", rows,
                    comment=f"# zoo_manifest_sha256={twin.manifest_sha256}")
    line = assert_refused(capsys, csv, bench_zoo_dir, tmp_path / "results")
    assert (f"zoo_manifest_sha256 {twin.manifest_sha256[:12]}... at line 1 is another zoo's "
            f"(this zoo's is {bench_test.manifest_sha256[:12]}...)") in line


@pytest.mark.parametrize("name", ["a/b", "../up", "..", "with space", "", "é"])
def test_unsafe_name_is_refused(capsys, tmp_path, bench_zoo_dir, bench_test, name) -> None:
    rows, _ = good_rows(bench_test)
    line = assert_refused(capsys, write_csv(tmp_path / "p.csv", rows), bench_zoo_dir,
                          tmp_path / "results", name=name)
    assert "name" in line and "letters, digits" in line


def test_missing_file_or_zoo_is_refused(capsys, tmp_path, bench_zoo_dir, bench_test) -> None:
    line = assert_refused(capsys, tmp_path / "nope.csv", bench_zoo_dir, tmp_path / "results")
    assert f"{tmp_path / 'nope.csv'}: no such file" in line
    rows, _ = good_rows(bench_test)
    csv = write_csv(tmp_path / "p.csv", rows)
    line = assert_refused(capsys, csv, tmp_path / "nozoo", tmp_path / "results")
    assert "no such zoo folder" in line


def test_non_utf8_file_is_refused(capsys, tmp_path, bench_zoo_dir) -> None:
    csv = tmp_path / "p.csv"
    csv.write_bytes(b"model_id,predicted_sr\n54,\xff\n")
    assert "not UTF-8 text" in assert_refused(capsys, csv, bench_zoo_dir, tmp_path / "r")


def test_resubmission_replaces_but_a_builtin_name_is_refused(capsys, tmp_path, bench_zoo_dir,
                                                             bench_test) -> None:
    results = tmp_path / "results"
    rows, _ = good_rows(bench_test)
    csv = write_csv(tmp_path / "p.csv", rows)
    assert run_submit(capsys, csv, bench_zoo_dir, results)[0] == 0
    code, out, _ = run_submit(capsys, csv, bench_zoo_dir, results)
    assert code == 0 and "replacing an earlier submission" in out
    assert len(list(results.glob("*.json"))) == 1

    builtin = build_record(
        method="unf", display_name="UNF", kind="builtin", reads="weights",
        zoo=zoo_info(bench_test),
        runs=[{"seed": 0, "best_epoch": 1, "epochs_run": 2,
               "val": {"kendall_tau": 0.5, "spearman": 0.5, "r2": 0.1, "mae": 0.2, "n": 6},
               "test": {"kendall_tau": 0.5, "spearman": 0.5, "r2": 0.1, "mae": 0.2, "n": 6},
               "val_tau_per_epoch": [0.4, 0.5], "param_count": 10, "wall_time_s": 1.0}],
        protocol={"epochs": 2, "batch_size": 10, "learning_rate": 1e-3, "loss": "bce",
                  "augment": None, "selection": "best validation tau"},
        predictions={"model_id": TEST_IDS, "predicted_sr": [[0.5] * 6],
                     "actual_sr": bench_test.labels},
    )
    path = write_result(builtin, results)
    before = path.read_bytes()
    code, out, err = run_submit(capsys, csv, bench_zoo_dir, results, name="unf")
    assert code == 2 and len(err.splitlines()) == 1
    assert "name unf:" in err and "holds a builtin result" in err
    assert path.read_bytes() == before
