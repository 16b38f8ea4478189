"""``tinyzoo reproduce table2``: NFN's Table 2 (Small CNN Zoo) on an imported zoo, with
NFN's figures beside ours; methods that do not apply are listed with their reason;
a Tiny RNN Zoo is refused with one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.audit import INVARIANCE_TOLERANCE
from benchmarks.protocol_config import ProtocolConfig
from benchmarks.table2 import format_table2, reproduce_table2
from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.cnn_fixture import write_published, write_split_file
from zoo_data.cnn.importer import import_small_cnn_zoo
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import CNN_FAMILY, family_named

RUNS = 40
PRESET = "small-cnn-cifar10"  # NFN's split of CIFAR-10 at the last checkpoint
ONE_EPOCH = ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None, batch_size=8)


@pytest.fixture(scope="module")
def cnn_zoo_dir(tmp_path_factory) -> Path:
    """A Small CNN Zoo (NFN's split, 40 runs: 16 / 4 / 20) imported from fixture files
    in the published layout; tests must not modify it."""
    root = tmp_path_factory.mktemp("cnn-table2")
    write_published(root / "src", runs=RUNS)
    write_split_file(root / "split.csv", RUNS * 9)
    out = root / "zoo"
    config = import_small_cnn_zoo(root / "src", "cifar10", out,
                                  split_file=str(root / "split.csv"), group_size=16,
                                  progress=False)
    assert config.preset == PRESET
    return out


@pytest.fixture(scope="module")
def table2(cnn_zoo_dir, tmp_path_factory):
    """``(rows, results dir, leaderboard dir)`` of Table 2 on the fixture zoo: statnn,
    hparams and probe-oracle, one seed, one epoch."""
    out = tmp_path_factory.mktemp("table2")
    results, board = out / "results", out / "board"
    rows = reproduce_table2(cnn_zoo_dir, seeds=1,
                            methods=["statnn", "hparams", "probe-oracle"],
                            config=ONE_EPOCH, results_dir=results, leaderboard_dir=board,
                            progress=False)
    return rows, results, board


def test_rows_carry_nfns_figure_where_nfn_has_a_counterpart(table2):
    rows, _, _ = table2
    assert [r["method"] for r in rows] == ["statnn", "hparams", "probe-oracle"]
    statnn, hparams, oracle = rows

    assert statnn["not_applicable"] is None
    assert statnn["nfn_row"] == "STATNN"
    assert (statnn["nfn_mean"], statnn["nfn_std"]) == (0.915, 0.002)
    assert statnn["n"] == 1 and math.isfinite(statnn["mean"])
    assert statnn["param_count"] > 0
    assert statnn["audit"]["max_abs_diff"] < INVARIANCE_TOLERANCE  # reads weights: audited

    assert hparams["not_applicable"] is None
    assert hparams["nfn_row"] is None and hparams["nfn_mean"] is None
    assert hparams["nfn_std"] is None
    assert hparams["n"] == 1 and math.isfinite(hparams["mean"])
    assert hparams["audit"] is None  # reads metadata only: nothing to permute

    assert oracle["display_name"] == "Network on fresh problems (probe oracle)"
    assert "publishes no images" in oracle["not_applicable"]
    assert "\n" not in oracle["not_applicable"]
    assert "result_file" not in oracle and "mean" not in oracle


def test_result_files_and_the_leaderboard_are_written(table2):
    rows, results, board = table2
    written = sorted(p.name for p in results.glob("*.json"))
    assert len(written) == 2
    assert all(name.startswith(f"{PRESET}-") for name in written)
    assert not any("probe-oracle" in name for name in written)
    for row in rows[:2]:
        path = Path(row["result_file"])
        assert path.parent == results and path.is_file()
        record = json.loads(path.read_text())
        assert record["method"] == row["method"]
        assert record["zoo"]["preset"] == PRESET
        assert record["zoo"]["family"] == "small-cnn-zoo"
        assert record["protocol"]["epochs"] == 1 and record["protocol"]["batch_size"] == 8
        assert len(record["runs"]) == 1
    markdown = (board / "LEADERBOARD.md").read_text()
    assert "# Small CNN Zoo" in markdown and f"## {PRESET}" in markdown
    assert "STATNN (NFN paper, Table 2)" in markdown


def test_format_shows_every_nfn_row_once(table2):
    rows, _, _ = table2
    text = format_table2(rows, PRESET)
    lines = text.splitlines()
    assert PRESET in lines[0] and "Table 2" in lines[0]
    nfn = family_named(CNN_FAMILY).published_results(PRESET).rows
    assert set(nfn) == {"NFN-HNP", "NFN-NP", "STATNN"}
    # NFN-HNP has no run here (UNF was not asked for): its own row, with its figure
    hnp = [line for line in lines if line.lstrip().startswith("NFN-HNP")]
    assert len(hnp) == 1 and "0.934" in hnp[0]
    assert sum("0.934" in line for line in lines) == 1
    np_rows = [line for line in lines if line.lstrip().startswith("NFN-NP")]
    assert len(np_rows) == 1 and "0.922" in np_rows[0]
    # STATNN's figure stands beside our STATNN row, not again as a row of its own
    assert sum("0.915" in line for line in lines) == 1
    ours = [line for line in lines if line.lstrip().startswith("STATNN")]
    assert len(ours) == 1 and "0.915" in ours[0]
    hparams = [line for line in lines if line.lstrip().startswith("Hyperparameters only")]
    assert len(hparams) == 1 and "—" in hparams[0]  # no NFN figure
    oracle = [line for line in lines if "not applicable" in line]
    assert len(oracle) == 1 and "probe oracle" in oracle[0]
    assert "publishes no images" in oracle[0]


def test_table2_refuses_an_unknown_method_and_a_tiny_rnn_zoo(cnn_zoo_dir, bench_zoo_dir,
                                                             tmp_path):
    with pytest.raises(TinyZooError, match="unknown method 'nfn-np'"):
        reproduce_table2(cnn_zoo_dir, 1, ["nfn-np"], ONE_EPOCH, tmp_path / "r",
                         tmp_path / "b", progress=False)
    with pytest.raises(TinyZooError, match="Small CNN Zoo"):
        reproduce_table2(bench_zoo_dir, 1, ["statnn"], ONE_EPOCH, tmp_path / "r",
                         tmp_path / "b", progress=False)
    assert not (tmp_path / "r").exists() and not (tmp_path / "b").exists()


def test_cli_prints_table2(cnn_zoo_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default results and leaderboard folders go here
    code, out, err = cli(capsys, "reproduce", "table2", "--zoo", str(cnn_zoo_dir),
                         "--seeds", "1", "--methods", "statnn", "--epochs", "1")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Table 2") and PRESET in lines[0]
    statnn = [line for line in lines if line.lstrip().startswith("STATNN")]
    assert len(statnn) == 1 and "0.915" in statnn[0]
    assert any(line.lstrip().startswith("NFN-HNP") and "0.934" in line for line in lines)
    assert (tmp_path / "leaderboard" / "LEADERBOARD.md").is_file()
    assert len(list((tmp_path / "leaderboard" / "results").glob("*__statnn.json"))) == 1


def test_cli_refuses_a_tiny_rnn_zoo_with_one_line(bench_zoo_dir, tmp_path, monkeypatch,
                                                  capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "reproduce", "table2", "--zoo", str(bench_zoo_dir),
                         "--seeds", "1", "--methods", "statnn", "--epochs", "1")
    line = one_line_error(code, err)
    assert "Small CNN Zoo" in line and "table2" in line
    assert out == ""
    assert not (tmp_path / "leaderboard").exists()
