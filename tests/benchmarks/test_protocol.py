"""The evaluation protocol, the audit and ``tinyzoo bench`` / ``audit``: test labels read
once at the end, determinism, model selection on val, train-only standardisation,
augmentation, resumable seeds, user predictor files end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import ProtocolConfig, run_protocol
from benchmarks.metrics import kendall_tau
from benchmarks.results import read_results
from benchmarks.validation import validate_record
from predictors.baselines import LinearStats
from predictors.statnn import STATNN, weight_statistics
from tests.fixtures.cli import cli
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import PRESETS
from zoo_data.zoo import Zoo, open_local_zoo

FAST = ProtocolConfig(epochs=3, passes_per_epoch=1, patience=None, batch_size=8)

#: A deliberately non-invariant predictor: reads the encoder's hidden kernel in order.
FLAT_PREDICTOR = '''
import flax.linen as nn
import numpy as np
from predictors.base import Predictor


class FlatKernel(Predictor):
    name = "flat-kernel"
    display_name = "Flat kernel (not invariant)"

    def features(self, params, spec):
        w = params["GRUCell_0"]["hn"]["kernel"]
        return np.asarray(w).reshape(w.shape[0], -1)

    def module(self, spec):
        return nn.Dense(1)
'''



@pytest.fixture(scope="module")
def tiny_zoo(tmp_path_factory) -> Path:
    """A zoo of the ``tiny`` preset's shape (hidden 32, 24 models), synthetic weights."""
    return write_synthetic_zoo(tmp_path_factory.mktemp("tiny") / "zoo", PRESETS["tiny"])


@pytest.fixture(scope="module")
def user_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("user") / "flat.py"
    path.write_text(FLAT_PREDICTOR)
    return path


def test_test_labels_are_read_once_after_every_prediction(bench_zoo_dir, monkeypatch):
    events: list[tuple[str, str | None]] = []
    metadata, params, batches = Zoo.metadata, Zoo.params, Zoo.batches

    def spy_metadata(self):
        events.append(("labels", self.split))
        return metadata.fget(self)

    def spy_params(self, *args, **kwargs):
        events.append(("weights", self.split))
        return params(self, *args, **kwargs)

    def spy_batches(self, *args, **kwargs):
        if kwargs.get("labels", True):
            events.append(("batches with labels", self.split))
        return batches(self, *args, **kwargs)

    monkeypatch.setattr(Zoo, "metadata", property(spy_metadata))
    monkeypatch.setattr(Zoo, "params", spy_params)
    monkeypatch.setattr(Zoo, "batches", spy_batches)
    result = run_protocol(STATNN(), str(bench_zoo_dir), seed=0, config=FAST)
    test_events = [e for e in events if e[1] == "test"]
    assert ("batches with labels", "test") not in events
    assert test_events.count(("labels", "test")) == 1
    assert test_events[-1] == ("labels", "test")
    assert ("weights", "test") in test_events
    # the one read is the last thing the protocol does with any split
    assert events[-1] == ("labels", "test")
    assert result.test["n"] == 6


def test_runs_are_deterministic_per_seed(bench_zoo_dir):
    a = run_protocol(STATNN(), str(bench_zoo_dir), seed=0, config=FAST)
    b = run_protocol(STATNN(), str(bench_zoo_dir), seed=0, config=FAST)
    c = run_protocol(STATNN(), str(bench_zoo_dir), seed=1, config=FAST)
    assert np.array_equal(a.test_predicted, b.test_predicted)
    assert a.val_tau_per_epoch == b.val_tau_per_epoch and a.test == b.test
    assert not np.array_equal(a.test_predicted, c.test_predicted)


def test_selection_keeps_the_best_validation_epoch(bench_zoo_dir):
    result = run_protocol(STATNN(), str(bench_zoo_dir), seed=2,
                          config=ProtocolConfig(epochs=5, passes_per_epoch=1, patience=None,
                                                batch_size=8))
    taus = result.val_tau_per_epoch
    assert len(taus) == 5 and result.epochs_run == 5
    assert result.best_epoch == int(np.argmax(taus)) + 1
    val = open_local_zoo(bench_zoo_dir, "val")
    # the kept parameters give the selected epoch's validation tau
    assert kendall_tau(result.trained.predict_zoo(val), val.labels) == pytest.approx(
        max(taus))
    assert result.val["kendall_tau"] == pytest.approx(max(taus))


def test_standardisation_uses_the_train_split_only(bench_zoo_dir):
    result = run_protocol(LinearStats(), str(bench_zoo_dir), seed=0, config=FAST)
    train = open_local_zoo(bench_zoo_dir, "train")
    feats = weight_statistics(train.params(train.model_ids, channel_axis=True))
    mean, std = result.trained.standardizer
    np.testing.assert_allclose(mean, feats.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, feats.astype(np.float64).std(0), rtol=1e-4, atol=1e-6)


def test_augmentation_changes_training_of_a_non_invariant_predictor(bench_zoo_dir, user_file):
    from predictors.registry import load_predictor

    predictor, _ = load_predictor(f"{user_file}:FlatKernel")
    plain = run_protocol(predictor, str(bench_zoo_dir), 0, FAST)
    augmented = run_protocol(predictor, str(bench_zoo_dir), 0,
                             ProtocolConfig(epochs=3, passes_per_epoch=1, patience=None,
                                            batch_size=8, augment=True))
    assert not np.allclose(plain.test_predicted, augmented.test_predicted)


def test_user_predictor_file_end_to_end_with_resume_and_leaderboard(tiny_zoo, user_file,
                                                                    tmp_path, capsys):
    results = tmp_path / "results"
    args = ["bench", f"{user_file}:FlatKernel", "--zoo", str(tiny_zoo), "--epochs", "2",
            "--passes-per-epoch", "1",
            "--batch-size", "4", "--results-dir", str(results), "--quiet"]
    code, out, err = cli(capsys, *args, "--seeds", "2")
    assert code == 0, err
    assert "Flat kernel (not invariant): test Kendall tau" in out
    (record,) = read_results(results)
    validate_record(record)
    assert record["kind"] == "user" and record["seeds"] == [0, 1]
    assert record["zoo"]["preset"] == "tiny" and record["zoo"]["splits"]["test"] == 3
    assert record["audit"]["max_abs_diff"] > 1e-3  # flagged: not invariant
    assert len(record["predictions"]["model_id"]) == 3

    loud = [a for a in args if a != "--quiet"]  # progress lines on stderr
    code, out, err = cli(capsys, *loud, "--seeds", "3")  # resumes: seeds 0, 1 kept
    assert code == 0, err
    assert err.count("done before") == 2 and "seed 2 (3/3): test tau" in err
    (record,) = read_results(results)
    assert record["seeds"] == [0, 1, 2] and record["summary"]["test_kendall_tau"]["n"] == 3

    # the predictor's code changes: its saved seeds are not reused, all three are re-run
    user_file.write_text(user_file.read_text() + "\n# edited after the seeds were saved\n")
    code, out, err = cli(capsys, *loud, "--seeds", "3")
    assert code == 0, err
    assert "done before" not in err and err.count("test tau") == 3

    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results), "--out",
                         str(tmp_path / "board"))
    assert code == 0, err
    board = (tmp_path / "board" / "LEADERBOARD.md").read_text()
    row = next(line for line in board.splitlines() if "Flat kernel" in line)
    assert row.rstrip().split("|")[-3].strip().endswith("(not invariant)")


def test_audit_flags_a_non_invariant_predictor_and_passes_statnn(bench_zoo_dir, user_file,
                                                                 capsys):
    code, out, err = cli(capsys, "audit", f"{user_file}:FlatKernel", "--zoo",
                         str(bench_zoo_dir), "--epochs", "2",
            "--passes-per-epoch", "1", "--quiet")
    assert code == 0, err
    assert "NOT invariant" in out
    code, out, err = cli(capsys, "audit", "statnn", "--zoo", str(bench_zoo_dir), "--epochs",
                         "1", "--passes-per-epoch", "1", "--quiet")
    assert code == 0, err
    assert ": invariant" in out


@pytest.mark.parametrize("args, message", [
    (["bench", "nope", "--seeds", "1"], "unknown method 'nope'"),
    (["bench", "statnn", "--seeds", "0"], "seeds 0"),
    (["bench", "statnn", "--epochs", "0", "--passes-per-epoch", "1"], "epochs 0"),
    (["bench", "statnn", "--lr", "-1"], "learning_rate -1"),
    (["audit", "statnn", "--permutations", "0"], "num_permutations 0"),
])
def test_bench_and_audit_reject_bad_input(bench_zoo_dir, tmp_path, capsys, monkeypatch, args,
                                          message):
    monkeypatch.chdir(tmp_path)  # the default results folder is relative
    code, _, err = cli(capsys, *args, "--zoo", str(bench_zoo_dir), "--quiet")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bench_rejects_a_missing_zoo(tmp_path, capsys):
    code, _, err = cli(capsys, "bench", "statnn", "--zoo", str(tmp_path / "none"),
                       "--results-dir", str(tmp_path / "r"))
    assert code == 2 and "no such zoo folder" in err
    assert not (tmp_path / "r").exists()


def test_result_json_is_plain_json(tiny_zoo, tmp_path, capsys):
    code, _, err = cli(capsys, "bench", "constant", "--zoo", str(tiny_zoo), "--seeds", "2",
                       "--epochs", "1", "--passes-per-epoch", "1", "--results-dir", str(tmp_path),
                       "--quiet")
    assert code == 0, err
    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["summary"]["test_kendall_tau"]["mean"] is None  # constant: undefined
    assert record["audit"]["max_abs_diff"] == 0.0


def test_saved_seeds_are_not_git_ignored_so_a_long_run_is_committed_seed_by_seed():
    """A board run of hours commits each finished seed as it arrives (leaderboard
    README, "Seeds in progress"); an ignored ``.partial`` folder would lose them with
    the machine."""
    import subprocess
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    seed = "leaderboard/results/.partial/small-v2-0__unf/seed-0.json"
    ignored = subprocess.run(["git", "check-ignore", "-q", seed], cwd=root)
    assert ignored.returncode == 1  # 1: not ignored


def test_a_user_predictor_cannot_take_a_builtins_name(bench_zoo_dir, tmp_path, capsys):
    impostor = tmp_path / "impostor.py"
    impostor.write_text(FLAT_PREDICTOR.replace('name = "flat-kernel"', 'name = "statnn"'))
    code, out, err = cli(capsys, "bench", f"{impostor}:FlatKernel", "--zoo",
                         str(bench_zoo_dir), "--epochs", "1", "--passes-per-epoch", "1",
                         "--results-dir", str(tmp_path / "results"), "--quiet")
    assert code == 2 and "name statnn: the name of a built-in method" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not list((tmp_path / "results").glob("*.json"))


def test_a_second_writer_of_one_record_is_refused_and_told_who_holds_it(bench_zoo_dir,
                                                                        tmp_path):
    import hashlib
    import tempfile

    import filelock

    from benchmarks.bench import run_benchmark
    from benchmarks.results import zoo_info, zoo_key

    results = tmp_path / "results"
    key = zoo_key(zoo_info(open_local_zoo(bench_zoo_dir)))
    folder = Path(tempfile.gettempdir()) / "tinyzoo-locks" / hashlib.sha256(
        str(results.resolve()).encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    held = filelock.FileLock(folder / f"{key}__hparams.lock")
    (folder / f"{key}__hparams.lock.who").write_text("pid 1: hparams, 5 seeds\n")
    with held, pytest.raises(Exception, match=r"being written by another bench \(pid 1: "
                                              r"hparams, 5 seeds\)"):
        run_benchmark("hparams", bench_zoo_dir, 1, FAST, results, progress=False, log=None)
    record, _ = run_benchmark("hparams", bench_zoo_dir, 1, FAST, results, progress=False,
                              log=None)  # released: it runs
    assert record["method"] == "hparams"
