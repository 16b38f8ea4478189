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
import inspect
from pathlib import Path

import pyarrow.parquet as pq

import zoo_data.archive.seal as seal
from zoo_data.zoo import Zoo, load_rows

ZOO, ATTEMPTS = ZOO_PATH, ATTEMPT_LIST


def leaked(labels):
    labels = np.asarray(labels, np.float64)
    return labels.size > 0 and np.isfinite(labels).any()


class Peeker(Predictor):
    """Tries every way to the test labels it knows; raises if one gives any."""
    name = "peeker"
    cache_features = True

    def features(self, params, spec):
        tried = []
        if "api" in ATTEMPTS:  # the package's own readers, by the zoo's path
            try:
                if leaked(load_zoo(ZOO, split="test").labels):
                    raise RuntimeError("LEAK: load_zoo(path).labels")
            except Exception as e:
                tried.append(str(e))
        found_paths, found_zoos = [], []
        for frame in inspect.stack():  # the caller's locals: a path, a zoo object
            for value in frame.frame.f_locals.values():
                if isinstance(value, Zoo):
                    found_zoos.append(value)
                elif isinstance(value, (str, Path)) and len(str(value)) < 4096:
                    try:
                        if (Path(value) / "manifest.json").is_file():
                            found_paths.append(str(value))
                    except (OSError, ValueError):
                        pass
        if found_paths:
            raise RuntimeError(f"LEAK: a zoo path on the call stack: {found_paths[0]}")
        seal._sealed = False  # undo the seal, then ask the zoo objects it holds
        for zoo in found_zoos:
            if leaked(zoo.with_split("test").labels):
                raise RuntimeError("LEAK: the seal flipped, zoo.labels")
        if "files" in ATTEMPTS:  # the shards on disk, by a guessed path
            for shard in sorted(Path(ZOO, "data").glob("*.parquet")):
                raise RuntimeError(f"LEAK: a shard is readable: {shard}")
            try:
                load_rows(ZOO)
                raise RuntimeError("LEAK: load_rows")
            except RuntimeError:
                raise
            except Exception as e:
                tried.append(str(e))
        return np.abs(params["GRUCell_0"]["hz"]["kernel"]).mean(axis=(1, 2, 3))[:, None]

    def module(self, spec):
        return nn.Dense(1)
'''

FORGER = HEADER + '''
from pathlib import Path

RESULTS = RESULTS_PATH


class Forger(Predictor):
    """Writes a forged record of a built-in into the results folder."""
    name = "forger"
    cache_features = True

    def features(self, params, spec):
        Path(RESULTS).mkdir(parents=True, exist_ok=True)
        Path(RESULTS, "bench-test-00000000__statnn.json").write_text('{"forged": 0.9999}')
        return np.abs(params["GRUCell_0"]["hz"]["kernel"]).mean(axis=(1, 2, 3))[:, None]

    def module(self, spec):
        return nn.Dense(1)
'''

GREEDY = HEADER + '''

class Greedy(Predictor):
    name = "greedy"
    cache_features = True

    def features(self, params, spec):
        zoo = load_zoo(ZOO_PATH)
        n = len(params["GRUCell_0"]["hz"]["kernel"])
        return zoo.metadata.loc[:, ["test_sr"]].to_numpy()[:n]

    def module(self, spec):
        return nn.Dense(1)
'''

AT_IMPORT = HEADER + '''
LEAK = load_zoo(ZOO_PATH, split="test").labels


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


def write(tmp_path: Path, source: str, zoo: Path | None = None, **values) -> Path:
    """The submission ``source`` with the zoo's path (as a hostile submitter would write
    it in) and other constants filled in."""
    path = tmp_path / "submission.py"
    source = source.replace("ZOO_PATH", repr(str(zoo)))
    for key, value in values.items():
        source = source.replace(key, repr(value))
    path.write_text(source)
    return path


def bench(capsys, file: Path, cls: str, zoo: Path, results: Path):
    return cli(capsys, "bench", f"{file}:{cls}", "--zoo", str(zoo), "--epochs", "2",
               "--passes-per-epoch", "1",
               "--batch-size", "8", "--seeds", "1", "--results-dir", str(results),
               "--quiet")


@pytest.fixture(params=["bubblewrap", "none"])
def sandbox(request, monkeypatch) -> str:
    """Each sealed-child test runs with bubblewrap's sandbox (where it runs: CI installs
    it) and without (TINYZOO_SANDBOX=0), where the package's seal alone holds."""
    from benchmarks.sealed import SANDBOX_ENV, _bubblewrap_runs

    if request.param == "bubblewrap" and not _bubblewrap_runs():
        pytest.skip("bubblewrap cannot make namespaces on this machine")
    if request.param == "none":
        monkeypatch.setenv(SANDBOX_ENV, "0")
    return request.param


def test_a_predictor_that_looks_for_test_labels_finds_none_and_is_scored(
        bench_zoo_dir, sandbox, tmp_path, capsys):
    """Issue 33, finding 2: the zoo's path on the call stack, load_rows, the seal flipped
    off; and, in the sandbox, the shards on disk by a guessed path."""
    attempts = ["api", "files"] if sandbox == "bubblewrap" else ["api"]
    file = write(tmp_path, PEEKER, bench_zoo_dir, ATTEMPT_LIST=attempts)
    code, out, err = bench(capsys, file, "Peeker", bench_zoo_dir, tmp_path / "results")
    assert code == 0, err
    # the parent scored the predictions on the real labels and wrote the record
    (path,) = (tmp_path / "results").glob("*.json")
    record = json.loads(path.read_text())
    actual = open_local_zoo(bench_zoo_dir, "test").labels
    assert np.allclose(record["predictions"]["actual_sr"], actual)
    assert record["kind"] == "user" and record["seeds"] == [0]
    assert record["summary"]["test_kendall_tau"]["n"] == 1
    # the harness never imported the user's file
    assert f"tinyzoo_user_predictor_{abs(hash(str(file.resolve())))}" not in sys.modules


def test_without_the_sandbox_the_shards_on_disk_are_the_documented_gap(
        bench_zoo_dir, tmp_path, capsys, monkeypatch):
    """What docs/LEADERBOARD_RULES.md says a submitter can still do without bubblewrap:
    open the zoo's files by a path it guesses (the rules forbid it)."""
    monkeypatch.setenv("TINYZOO_SANDBOX", "0")
    file = write(tmp_path, PEEKER, bench_zoo_dir, ATTEMPT_LIST=["files"])
    code, _, err = bench(capsys, file, "Peeker", bench_zoo_dir, tmp_path / "results")
    assert "LEAK: a shard is readable" in one_line_error(code, err)


def test_a_predictor_cannot_write_into_the_results_folder(bench_zoo_dir, tmp_path, capsys):
    from benchmarks.sealed import _bubblewrap_runs

    if not _bubblewrap_runs():
        pytest.skip("bubblewrap cannot make namespaces on this machine")
    results = tmp_path / "results"
    results.mkdir()  # a results folder that exists is replaced by an empty one
    file = write(tmp_path, FORGER, RESULTS_PATH=str(results))
    code, _, err = bench(capsys, file, "Forger", bench_zoo_dir, results)
    assert code == 0, err
    assert [p.name for p in results.glob("*.json")] == [
        f"bench-test-{open_local_zoo(bench_zoo_dir).manifest_sha256[:8]}__forger.json"]


def test_without_the_sandbox_a_forged_record_never_reaches_the_board(
        bench_zoo_dir, tmp_path, capsys, monkeypatch):
    """Issue 33, finding 1: a submission wrote a STATNN record into the results folder
    and the board ranked it first. Without bubblewrap the file can be written; the board
    refuses it in one line and writes nothing."""
    monkeypatch.setenv("TINYZOO_SANDBOX", "0")
    results = tmp_path / "results"
    file = write(tmp_path, FORGER, RESULTS_PATH=str(results))
    code, _, err = bench(capsys, file, "Forger", bench_zoo_dir, results)
    assert code == 0, err
    forged = results / "bench-test-00000000__statnn.json"
    assert forged.is_file()
    code, _, err = cli(capsys, "leaderboard", "--results-dir", str(results), "--out",
                       str(tmp_path / "board"))
    assert str(forged) in one_line_error(code, err)
    assert not (tmp_path / "board").exists()


@pytest.mark.parametrize("source, cls", [(GREEDY, "Greedy"), (AT_IMPORT, "AtImport")],
                         ids=["all-splits-metadata", "at-import"])
def test_reading_test_labels_anywhere_in_a_submission_stops_it_with_one_line(
        bench_zoo_dir, sandbox, tmp_path, capsys, source, cls):
    file = write(tmp_path, source, bench_zoo_dir)
    code, _, err = bench(capsys, file, cls, bench_zoo_dir, tmp_path / "results")
    line = one_line_error(code, err)
    if sandbox == "bubblewrap":  # the zoo's folder is empty there
        assert "no zoo manifest" in line
    else:
        assert "the test labels are sealed in this process" in line
    assert not list((tmp_path / "results").glob("*.json"))


def test_a_submission_that_kills_its_process_is_one_line(bench_zoo_dir, tmp_path, capsys):
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


def test_a_bubblewrap_that_cannot_make_namespaces_falls_back_to_the_seal(tmp_path,
                                                                       monkeypatch):
    """A container may ship bwrap but forbid its namespaces: the child then runs without
    the sandbox (rules 3 and 4 say what that leaves), never fails to start."""
    import benchmarks.sealed as sealed

    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    sealed._bubblewrap_runs.cache_clear()
    try:
        assert sealed.sandbox_command([tmp_path], tmp_path) is None
    finally:
        sealed._bubblewrap_runs.cache_clear()
