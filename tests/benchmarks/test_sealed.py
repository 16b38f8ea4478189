"""Sealed test labels: a code submission runs in a child process that cannot read the
test labels through the package, and the harness scores it. Predictors here try to
cheat (at import time, in ``features``, through the reader's table) and are stopped;
one crashes its process. The user's file is never imported into the harness."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.cli import cli, one_line_error
from zoo_data.zoo import open_local_zoo

HEADER = '''
import json, os
import flax.linen as nn
import numpy as np
from predictors.base import Predictor
from zoo_data.zoo import load_zoo
'''

PEEKER = HEADER + '''

class Peeker(Predictor):
    name = "peeker"
    cache_features = True

    def features(self, params, spec):
        test = load_zoo(os.environ["PEEK_ZOO"], split="test")
        try:
            json.dump({"labels": test.labels.tolist()}, open(os.environ["PEEK_OUT"], "w"))
        except Exception as e:  # the refusal it got, for the test to check
            json.dump({"refused": str(e)}, open(os.environ["PEEK_OUT"], "w"))
        table = test._reader.metadata  # the raw table the reader holds
        ids = test.model_ids
        with open(os.environ["PEEK_OUT"] + ".table", "w") as f:
            json.dump(table.loc[ids, "test_sr"].tolist(), f)
        return np.stack([np.abs(params["GRUCell_0"]["hz"]["kernel"]).mean(axis=(1, 2, 3))], 1)

    def module(self, spec):
        return nn.Dense(1)
'''

GREEDY = HEADER + '''

class Greedy(Predictor):
    name = "greedy"
    cache_features = True

    def features(self, params, spec):
        zoo = load_zoo(os.environ["PEEK_ZOO"])
        n = len(params["GRUCell_0"]["hz"]["kernel"])
        return zoo.metadata.loc[:, ["test_sr"]].to_numpy()[:n]

    def module(self, spec):
        return nn.Dense(1)
'''

AT_IMPORT = HEADER + '''
LEAK = load_zoo(os.environ["PEEK_ZOO"], split="test").labels


class AtImport(Predictor):
    name = "at-import"
'''

CRASHER = HEADER + '''

class Crasher(Predictor):
    name = "crasher"

    def features(self, params, spec):
        os._exit(3)

    def module(self, spec):
        return nn.Dense(1)
'''


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "submission.py"
    path.write_text(source)
    return path


@pytest.fixture
def peek_env(bench_zoo_dir, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("PEEK_ZOO", str(bench_zoo_dir))
    out = tmp_path / "peek.json"
    monkeypatch.setenv("PEEK_OUT", str(out))
    return out


def bench(capsys, file: Path, cls: str, zoo: Path, results: Path):
    return cli(capsys, "bench", f"{file}:{cls}", "--zoo", str(zoo), "--epochs", "2",
               "--passes-per-epoch", "1",
               "--batch-size", "8", "--seeds", "2", "--results-dir", str(results),
               "--quiet")


def test_a_predictor_that_reads_test_labels_is_refused_and_the_harness_scores_it(
        bench_zoo_dir, peek_env, tmp_path, capsys):
    file = write(tmp_path, PEEKER)
    code, out, err = bench(capsys, file, "Peeker", bench_zoo_dir, tmp_path / "results")
    assert code == 0, err
    seen = json.loads(peek_env.read_text())
    assert "labels" not in seen and "the test labels are sealed" in seen["refused"]
    table = json.loads(Path(str(peek_env) + ".table").read_text())
    assert len(table) == 6 and all(np.isnan(v) for v in table)  # NaN, not the labels
    # the parent scored the predictions on the real labels
    (path,) = (tmp_path / "results").glob("*.json")
    record = json.loads(path.read_text())
    actual = open_local_zoo(bench_zoo_dir, "test").labels
    assert np.allclose(record["predictions"]["actual_sr"], actual)
    assert record["kind"] == "user" and record["seeds"] == [0, 1]
    assert record["summary"]["test_kendall_tau"]["n"] == 2
    # the harness never imported the user's file
    assert f"tinyzoo_user_predictor_{abs(hash(str(file.resolve())))}" not in sys.modules


@pytest.mark.parametrize("source, cls", [(GREEDY, "Greedy"), (AT_IMPORT, "AtImport")],
                         ids=["all-splits-metadata", "at-import"])
def test_reading_test_labels_anywhere_in_a_submission_stops_it_with_one_line(
        bench_zoo_dir, peek_env, tmp_path, capsys, source, cls):
    file = write(tmp_path, source)
    code, _, err = bench(capsys, file, cls, bench_zoo_dir, tmp_path / "results")
    line = one_line_error(code, err)
    assert "the test labels are sealed in this process" in line
    assert not list((tmp_path / "results").glob("*.json"))


def test_a_submission_that_kills_its_process_is_one_line(bench_zoo_dir, peek_env,
                                                          tmp_path, capsys):
    file = write(tmp_path, CRASHER)
    code, _, err = bench(capsys, file, "Crasher", bench_zoo_dir, tmp_path / "results")
    line = one_line_error(code, err)
    assert "ended without a result (exit code 3)" in line


def test_the_seal_covers_every_label_reader_of_the_api(bench_zoo_dir, tmp_path):
    """The seal in a fresh interpreter (it cannot be undone in a process)."""
    import subprocess

    script = f'''
from zoo_data.errors import TinyZooError
from zoo_data.archive.seal import seal_test_labels
from zoo_data.zoo import load_zoo
seal_test_labels()
zoo = load_zoo({str(bench_zoo_dir)!r})
train = zoo.with_split("train")
assert len(train.labels) == 48 and len(zoo.with_split("val").metadata) == 6
next(train.batches(8))  # train labels stay readable
refused = 0
for read in (lambda: zoo.labels, lambda: zoo.with_split("test").metadata,
             lambda: next(zoo.with_split("test").batches(2)),
             lambda: zoo.with_split("test").dataset):
    try:
        read()
    except TinyZooError as e:
        assert "sealed" in str(e)
        refused += 1
next(zoo.with_split("test").batches(2, labels=False))  # test weights stay readable
print(refused)
'''
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"


def test_a_script_without_a_main_guard_is_not_run_again_by_the_sealed_child(bench_zoo_dir,
                                                                           tmp_path):
    """``spawn`` re-imports the parent's main script in the child; a script (or a
    notebook saved as one) that benchmarks a file at top level would run again there."""
    import subprocess

    user = tmp_path / "mine.py"
    user.write_text(HEADER + '''

class Mine(Predictor):
    name = "mine"
    cache_features = True

    def features(self, params, spec):
        return np.abs(params["GRUCell_0"]["hz"]["kernel"]).mean(axis=(1, 2, 3))[:, None]

    def module(self, spec):
        return nn.Dense(1)
''')
    script = tmp_path / "top_level.py"
    script.write_text(f'''
from benchmarks.bench import run_benchmark
from benchmarks.protocol_config import ProtocolConfig
print("top level ran", flush=True)
run_benchmark({str(user)!r} + ":Mine", {str(bench_zoo_dir)!r}, 1,
              ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None, batch_size=8),
              {str(tmp_path / "results")!r}, progress=False, log=None)
''')
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("top level ran") == 1
    assert len(list((tmp_path / "results").glob("*__mine.json"))) == 1


SLEEPER = HEADER + '''
import time


class Sleeper(Predictor):
    name = "sleeper"
    cache_features = True

    def features(self, params, spec):
        time.sleep(3600)

    def module(self, spec):
        return nn.Dense(1)
'''


def test_a_seed_past_the_time_limit_is_stopped_in_one_line(bench_zoo_dir, tmp_path,
                                                           capsys):
    import time

    user = tmp_path / "sleeper.py"
    user.write_text(SLEEPER)
    t0 = time.monotonic()
    code, out, err = cli(capsys, "bench", f"{user}:Sleeper", "--zoo", str(bench_zoo_dir),
                         "--seeds", "1", "--time-limit", "4", "--results-dir",
                         str(tmp_path / "results"), "--quiet")
    line = one_line_error(code, err)
    assert "seed 0 ran past the time limit of 4 s" in line
    assert time.monotonic() - t0 < 60
    assert not list((tmp_path / "results").glob("*.json"))


def test_the_sealed_child_dies_with_its_parent_on_sigterm(bench_zoo_dir, tmp_path):
    import signal
    import subprocess
    import time

    user = tmp_path / "sleeper.py"
    user.write_text(SLEEPER)
    parent = subprocess.Popen(
        [sys.executable, "-m", "tinyzoo", "bench", f"{user}:Sleeper", "--zoo",
         str(bench_zoo_dir), "--seeds", "1", "--results-dir", str(tmp_path / "results"),
         "--quiet"], cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True,
                               text=True).stdout.split()
        return [int(p) for p in found]

    deadline = time.monotonic() + 120
    kids: list[int] = []
    while time.monotonic() < deadline and not kids:
        kids = children()  # the spawned child (and its resource tracker)
        time.sleep(0.5)
    assert kids, "the sealed child never started"
    time.sleep(3)  # the child is in the predictor's features by now
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=30)
    def alive() -> list[int]:  # neither gone nor a zombie
        out = []
        for k in kids:
            try:
                if Path(f"/proc/{k}/stat").read_text().split()[2] != "Z":
                    out.append(k)
            except OSError:
                pass
        return out

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and alive():
        time.sleep(0.5)
    assert alive() == [], f"the sealed child outlived its parent: {alive()}"


def test_the_package_functions_a_predictor_could_find_respect_the_seal(bench_zoo_dir):
    """Issue 33, finding 2: inside the sealed child, ``zoo_data.zoo.load_rows`` and
    ``zoo_data.archive.shard_files.read_shard_table`` returned the test labels."""
    import subprocess

    script = f'''
import numpy as np
from zoo_data.errors import TinyZooError
from zoo_data.archive.seal import seal_test_labels
from zoo_data.archive.shard_files import read_shard_table
from zoo_data.zoo import load_rows, open_local_zoo
zoo = open_local_zoo({str(bench_zoo_dir)!r})
seal_test_labels()
try:
    load_rows({str(bench_zoo_dir)!r})
    raise SystemExit("load_rows read the test labels")
except TinyZooError as e:
    assert "sealed" in str(e)
test_ids = set(zoo.with_split("test").model_ids.tolist())
seen = 0
for shard in sorted((zoo.path / "data").glob("*.parquet")):
    table = read_shard_table(shard, zoo.config)
    for mid, sr in zip(table.column("model_id").to_pylist(),
                       table.column("test_sr").to_pylist()):
        if mid in test_ids:
            assert sr is None, (shard, mid, sr)
            seen += 1
        else:
            assert sr is not None
print(seen)
'''
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) == 6  # every test row, hidden
