"""Named split schemes (zoo_data/archive/split_schemes.py) and the Tiny RNN Zoo's shifted
split ``lr-shift`` (zoo_data/rnn/shift.py): disjoint sets that follow the rule, loadable
by name, named in records and file names, sealed like the default split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench import run_benchmark
from benchmarks.protocol_config import ProtocolConfig
from benchmarks.results import read_results
from benchmarks.validation import validate_record
from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.zoos import BENCH_CONFIG
from zoo_data.archive.split_schemes import (
    DEFAULT_SCHEME,
    scheme_ids,
    scheme_names,
    scheme_record,
    scheme_rows,
)
from zoo_data.archive.splits import split_ids
from zoo_data.errors import TinyZooError
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import get_preset
from zoo_data.zoo import load_zoo, open_local_zoo

ROOT = Path(__file__).resolve().parents[2]
QUICK = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)


@pytest.mark.parametrize("preset", ["small-v2", "small", "mini", "tiny"])
def test_lr_shift_holds_out_the_largest_learning_rates_disjointly(preset):
    config = get_preset(preset)
    ids = scheme_ids(config, "lr-shift")
    n = config.num_models
    every = np.concatenate([ids["train"], ids["val"], ids["test"]])
    assert np.array_equal(np.sort(every), np.arange(n))  # disjoint and complete
    held = np.sort(np.concatenate([ids["val"], ids["test"]]))
    assert len(held) == -(-n // 5)  # ceil(n / 5)
    lr = np.asarray([model_hparams(config, i).learning_rate for i in range(n)])
    assert lr[held].min() > lr[ids["train"]].max()  # a band no training model has
    assert np.array_equal(ids["val"], held[0::2]) and np.array_equal(ids["test"], held[1::2])
    if preset == "small-v2":
        assert [len(ids[s]) for s in ("train", "val", "test")] == [800, 100, 100]


def test_the_default_scheme_is_the_id_ranges_and_the_split_files_record_every_scheme():
    config = get_preset("small-v2")
    assert list(scheme_names(config)) == [DEFAULT_SCHEME, "lr-shift"]
    for split in ("train", "val", "test"):
        assert np.array_equal(scheme_ids(config)[split], split_ids(config, split))
    written = json.loads((ROOT / "data" / "splits" / "small-v2.json").read_text())
    assert written["schemes"]["lr-shift"] == scheme_record(config, "lr-shift")
    rows = scheme_rows(config, "test", "lr-shift")  # every checkpoint of each test model
    assert len(rows) == 3 * 100 and np.array_equal(np.unique(rows // 3),
                                                   scheme_ids(config, "lr-shift")["test"])


def test_a_zoo_loads_by_scheme_name_and_refuses_an_unknown_one(bench_zoo_dir):
    zoo = load_zoo(bench_zoo_dir, "test", split_scheme="lr-shift")
    expected = scheme_ids(BENCH_CONFIG, "lr-shift")["test"]
    assert np.array_equal(zoo.model_ids, expected) and zoo.split_scheme == "lr-shift"
    assert "split_scheme='lr-shift'" in repr(zoo)
    assert np.array_equal(zoo.with_split("train").model_ids,
                          scheme_ids(BENCH_CONFIG, "lr-shift")["train"])
    assert len(zoo.labels) == len(expected)
    with pytest.raises(TinyZooError, match="unknown split scheme 'bogus' for a bench-test "
                                           "zoo; choose one of id-ranges, lr-shift"):
        open_local_zoo(bench_zoo_dir, split_scheme="bogus")


def test_a_record_names_its_scheme_and_gets_its_own_table(bench_zoo_dir, tmp_path):
    record, path = run_benchmark("hparams", bench_zoo_dir, 1, QUICK, tmp_path, progress=False,
                                 log=None, split_scheme="lr-shift")
    validate_record(record)
    assert record["zoo"]["split_scheme"] == "lr-shift"
    assert path.name.endswith(".lr-shift__hparams.json")
    assert record["zoo"]["splits"] == {s: len(v) for s, v in
                                       scheme_ids(BENCH_CONFIG, "lr-shift").items()}
    assert record["predictions"]["model_id"] == \
        scheme_ids(BENCH_CONFIG, "lr-shift")["test"].tolist()
    default, _ = run_benchmark("hparams", bench_zoo_dir, 1, QUICK, tmp_path, progress=False,
                               log=None)
    assert "split_scheme" not in default["zoo"]
    assert len(read_results(tmp_path)) == 2  # two files: one per scheme


def test_bench_refuses_an_unknown_scheme_in_one_line(bench_zoo_dir, tmp_path, capsys):
    code, out, err = cli(capsys, "bench", "hparams", "--zoo", str(bench_zoo_dir),
                         "--split-scheme", "bogus", "--results-dir", str(tmp_path))
    assert "unknown split scheme 'bogus'" in one_line_error(code, err)


def test_the_seal_hides_the_schemes_test_labels_and_refuses_another_scheme(bench_zoo_dir):
    """In a fresh interpreter (a seal cannot be undone in a process)."""
    script = f'''
import numpy as np
from zoo_data.errors import TinyZooError
from zoo_data.archive.seal import seal_test_labels
from zoo_data.zoo import load_zoo
seal_test_labels("lr-shift")
zoo = load_zoo({str(bench_zoo_dir)!r}, split_scheme="lr-shift")
train = zoo.with_split("train")
assert np.isfinite(train.labels).all()  # train labels (some in the default test range)
try:
    zoo.with_split("test").labels
    raise SystemExit("test labels read")
except TinyZooError as e:
    assert "sealed" in str(e)
table = zoo._reader.metadata
test = zoo.with_split("test").model_ids
assert table.loc[test, "test_sr"].isna().all()
assert table.loc[train.model_ids, "test_sr"].notna().all()
try:
    load_zoo({str(bench_zoo_dir)!r})
    raise SystemExit("another scheme opened")
except TinyZooError as e:
    assert "sealed" in str(e)
print("ok")
'''
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_code_submission_runs_sealed_under_the_scheme(bench_zoo_dir, tmp_path, capsys):
    """The sealed child opens the zoo under the parent's scheme: its test predictions
    follow the scheme's test models, which the parent scores."""
    user = tmp_path / "mean_kernel.py"
    user.write_text(
        "import flax.linen as nn\nimport numpy as np\nfrom predictors.base import Predictor\n"
        "class MeanKernel(Predictor):\n    name = 'mean-kernel'\n    cache_features = True\n"
        "    def features(self, params, spec):\n"
        "        return np.abs(params['GRUCell_0']['hz']['kernel']).mean(axis=(1, 2, 3))"
        "[:, None]\n"
        "    def module(self, spec):\n        return nn.Dense(1)\n")
    results = tmp_path / "results"
    code, out, err = cli(capsys, "bench", f"{user}:MeanKernel", "--zoo", str(bench_zoo_dir),
                         "--seeds", "1", "--epochs", "1", "--passes-per-epoch", "1",
                         "--batch-size", "8", "--split-scheme", "lr-shift", "--results-dir",
                         str(results), "--quiet")
    assert code == 0, err
    (record,) = read_results(results)
    assert record["zoo"]["split_scheme"] == "lr-shift" and record["kind"] == "user"
    assert record["predictions"]["model_id"] == \
        scheme_ids(BENCH_CONFIG, "lr-shift")["test"].tolist()


def test_the_board_shows_a_shifted_split_as_its_own_table_beside_in_distribution(
        bench_zoo_dir, tmp_path):
    from benchmarks.leaderboard import write_leaderboard

    results = tmp_path / "results"
    for scheme in ("id-ranges", "lr-shift"):
        for method in ("hparams", "statnn"):
            run_benchmark(method, bench_zoo_dir, 1, QUICK, results, progress=False, log=None,
                          split_scheme=scheme)
    report = write_leaderboard(results, tmp_path / "board")
    board = report.markdown.read_text()
    heading = next(line for line in board.splitlines() if "split `lr-shift`" in line)
    assert heading.startswith("## bench-test")
    shifted = board[board.index(heading):]
    assert "held out: the fifth of the models with the largest learning rates" in shifted
    header = next(line for line in shifted.splitlines() if line.startswith("| rank"))
    assert "in-distribution τ" in header
    records = {(r["zoo"].get("split_scheme"), r["method"]): r for r in read_results(results)}
    row = next(line for line in shifted.splitlines() if "STATNN" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    in_dist = records[(None, "statnn")]["summary"]["test_kendall_tau"]["mean"]
    assert cells[header.strip("|").split("|").index(" in-distribution τ ")] == \
        f"{in_dist:.4f}"
    import pandas as pd
    csv = pd.read_csv(tmp_path / "board" / "leaderboard.csv")
    assert set(csv["split_scheme"].dropna()) == {"lr-shift"}
    page = (tmp_path / "board" / "index.html").read_text()
    assert "in-distribution τ" in page and "split <code" in page


def test_the_card_documents_the_schemes_and_a_schemes_split_is_a_dataset(bench_zoo_dir):
    from zoo_data.archive.layout import ZooLayout
    from zoo_data.rnn.card import card_parts

    body = str(card_parts(BENCH_CONFIG, ZooLayout.of(BENCH_CONFIG)))
    assert "### Other split schemes" in body and "`lr-shift`: held out: the fifth" in body
    assert 'split_scheme="lr-shift"' in body
    test = load_zoo(bench_zoo_dir, "test", split_scheme="lr-shift")
    ds = test.dataset
    assert ds["model_id"] == test.model_ids.tolist()  # not a contiguous range of ids


def test_a_shifted_run_is_never_checked_against_the_in_distribution_record(bench_zoo_dir):
    from benchmarks.reproduction import committed_record
    from benchmarks.results import zoo_info

    default = zoo_info(open_local_zoo(bench_zoo_dir))
    shifted = zoo_info(open_local_zoo(bench_zoo_dir, split_scheme="lr-shift"))
    records = {"default": {"method": "statnn", "zoo": default},
               "shifted": {"method": "statnn", "zoo": shifted}}
    from benchmarks import reproduction
    for name, zoo in (("default", default), ("shifted", shifted)):
        found = [r for r in records.values() if reproduction._same_zoo_kind(r["zoo"], zoo)]
        assert found == [records[name]]
    assert committed_record is reproduction.committed_record
