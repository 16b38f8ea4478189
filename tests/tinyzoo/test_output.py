"""What the long commands print: progress on stderr as clean lines when it is not a
terminal (one per finished seed), tau to 4 decimals, an undefined tau with its reason,
an aligned Table 1, and ``--json`` documents alone on stdout."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fixtures.cli import cli, one_line_error
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.common.progress import PROGRESS_ENV
from zoo_data.rnn.presets import PRESETS

CONSTANT = "undefined (constant predictions rank nothing)"
FAST = ("--epochs", "1", "--passes-per-epoch", "1", "--batch-size", "8")


@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory) -> Path:
    """A complete zoo of the ``tiny`` preset (24 models, 3 test), synthetic weights, so
    that ``reproduce table1 --preset tiny`` finds it built."""
    return write_synthetic_zoo(tmp_path_factory.mktemp("tiny") / "zoo", PRESETS["tiny"])


@pytest.fixture(autouse=True)
def log_mode(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)  # capsys: stderr is not a terminal


def clean(text: str) -> None:
    assert "\r" not in text and "\x1b" not in text, repr(text)


def seed_lines(err: str, method: str) -> list[str]:
    return [line for line in err.splitlines()
            if re.match(rf"{method} seed \d+ \(\d+/\d+\): ", line)]


def test_bench_logs_one_clean_line_per_seed_with_the_reason(tiny_zoo, tmp_path, capsys):
    code, out, err = cli(capsys, "bench", "constant", "--zoo", str(tiny_zoo), "--seeds", "2",
                         *FAST, "--results-dir", str(tmp_path))
    assert code == 0, err
    clean(err)
    lines = seed_lines(err, "constant")
    assert len(lines) == 2 and all(f"test tau {CONSTANT}" in line for line in lines)
    assert lines[0].startswith("constant seed 0 (1/2): ")
    assert f"test Kendall tau {CONSTANT} over 2 seeds" in out and "None" not in out + err


def test_bench_prints_tau_with_4_decimals(tiny_zoo, tmp_path, capsys):
    code, out, err = cli(capsys, "bench", "linear-stats", "--zoo", str(tiny_zoo), "--seeds",
                         "1", *FAST, "--results-dir", str(tmp_path))
    assert code == 0, err
    clean(err)
    (line,) = seed_lines(err, "linear-stats")
    assert re.search(r": test tau -?\d\.\d{4}, best epoch 1, \d+ s$", line), line
    assert re.search(r"test Kendall tau -?\d\.\d{4} over 1 seed;", out), out
    assert not re.search(r"\d\.\d{5}", out + err)


def test_bench_json_is_one_document_on_stdout(tiny_zoo, tmp_path, capsys):
    code, out, err = cli(capsys, "bench", "constant", "--zoo", str(tiny_zoo), "--seeds", "1",
                         *FAST, "--results-dir", str(tmp_path), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"method", "display_name", "zoo", "protocol", "seeds", "runs", "summary",
            "test_tau_ci", "audit", "param_count", "result_file",
            "test_kendall_tau_undefined_reason"} <= set(doc)
    assert "predictions" not in doc and Path(doc["result_file"]).is_file()
    assert doc["summary"]["test_kendall_tau"]["mean"] is None
    assert doc["test_kendall_tau_undefined_reason"] == "constant predictions rank nothing"
    assert len(seed_lines(err, "constant")) == 1  # progress stays on stderr

    code, out, err = cli(capsys, "bench", "constant", "--zoo", str(tiny_zoo), "--seeds", "1",
                         *FAST, "--results-dir", str(tmp_path), "--json", "--quiet")
    assert code == 0 and err == "" and json.loads(out)["seeds"] == [0]


def test_bench_json_keeps_one_line_errors(tiny_zoo, tmp_path, capsys):
    code, out, err = cli(capsys, "bench", "constant", "--zoo", str(tiny_zoo), "--seeds", "0",
                         "--results-dir", str(tmp_path), "--json")
    assert "seeds 0" in one_line_error(code, err) and out == ""


def test_info_json(synthetic_zoo_master, tmp_path, capsys):
    code, out, err = cli(capsys, "info", str(synthetic_zoo_master), "--png",
                         str(tmp_path / "sr.png"), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"path", "preset", "num_models", "splits", "sr", "sr_by_split", "hyperparameters",
            "checksums", "manifest_sha256", "histogram_png"} <= set(doc)
    assert doc["num_models"] == 30 and doc["checksums"]["status"] == "verified"


def test_reproduce_table1_json_then_text(tiny_zoo, tmp_path, capsys):
    args = ["reproduce", "table1", "--preset", "tiny", "--zoo", str(tiny_zoo), "--methods",
            "constant,linear-stats", "--seeds", "1", *FAST, "--results-dir",
            str(tmp_path / "results"), "--leaderboard-dir", str(tmp_path / "board"),
            "--reproduction-dir", str(tmp_path / "reproductions")]
    code, out, err = cli(capsys, *args, "--json")
    assert code == 0, err
    clean(err)
    doc = json.loads(out)
    assert {"preset", "seeds", "protocol", "rows", "results_dir", "leaderboard", "report",
            "wall_time_s"} <= set(doc)
    assert doc["report"] is None and doc["leaderboard"].endswith("LEADERBOARD.md")
    constant, linear = doc["rows"]
    assert {"method", "display_name", "mean", "std", "n", "undefined_reason", "paper_mean",
            "paper_std", "param_count", "audit", "result_file", "path",
            "reproduction"} <= set(linear)
    assert linear["path"] == "remake" and linear["reproduction"] is None
    assert constant["mean"] is None
    assert constant["undefined_reason"] == "constant predictions rank nothing"
    assert isinstance(linear["mean"], float) and linear["undefined_reason"] is None
    assert len(seed_lines(err, "constant")) == len(seed_lines(err, "linear-stats")) == 1

    code, out, err = cli(capsys, *args)  # the same code: re-checked, not re-made
    assert code == 0, err
    assert len(seed_lines(err, "constant")) == len(seed_lines(err, "linear-stats")) == 1
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    table = lines[header:header + 3]
    end = table[0].index("seeds") + len("seeds")
    assert all(line[end - 1] == "1" and line[end] == " " for line in table[1:]), out
    assert CONSTANT in table[1] and re.search(r"  -?\d\.\d{4}  ", table[2])
    assert out.count("reproduced bitwise") == 2, out
    assert f"report: {tmp_path / 'reproductions'}/tiny/report.md" in lines
    assert not any(line.startswith("leaderboard:") for line in lines)
    assert re.fullmatch(r"done: 2 methods x 1 seed in \d\d:\d\d", lines[-1])


def test_reproduce_table1_bad_input_is_one_line(tmp_path, capsys):
    code, out, _ = cli(capsys, "reproduce", "table1", "--preset", "nope", "--json")
    assert out == ""
    code, out, err = cli(capsys, "reproduce", "table1", "--preset", "tiny", "--methods",
                         "nope", "--zoo", str(tmp_path / "z"), "--json")
    assert "unknown method 'nope'" in one_line_error(code, err) and out == ""
