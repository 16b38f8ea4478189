"""Result records: summary statistics, environment, validation, atomic write and read."""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks import results
from benchmarks.results import (
    environment,
    read_results,
    result_filename,
    summarize,
    write_result,
    zoo_info,
)
from benchmarks.validation import SCHEMA_VERSION, validate_record
from tests.fixtures.records import SHA, make_record, make_run
from zoo_data.errors import TinyZooError


def test_summarize_mean_and_sample_std() -> None:
    runs = [make_run(s, tau, val) for s, (tau, val) in enumerate([(0.8, 0.7), (0.9, 0.6),
                                                                  (0.85, 0.65)])]
    summary = summarize(runs)
    assert set(summary) == {"test_kendall_tau", "val_kendall_tau", "test_spearman",
                            "test_r2", "test_mae"}
    tau = summary["test_kendall_tau"]
    assert tau["n"] == 3
    assert tau["mean"] == pytest.approx(0.85)
    assert tau["std"] == pytest.approx(np.std([0.8, 0.9, 0.85], ddof=1))  # 0.05
    assert tau["std"] == pytest.approx(0.05)
    assert summary["val_kendall_tau"]["mean"] == pytest.approx(0.65)
    assert summary["test_mae"] == {"mean": 0.125, "std": 0.0, "n": 3}


def test_summarize_one_run_missing_split_and_undefined_values() -> None:
    one = summarize([make_run(0, 0.8)])
    assert one["test_kendall_tau"] == {"mean": 0.8, "std": None, "n": 1}
    submission = {**make_run(None, 0.8), "val": None}
    assert summarize([submission])["val_kendall_tau"] == {"mean": None, "std": None, "n": 0}
    undefined = summarize([make_run(0, 0.8), make_run(1, math.nan), make_run(2, None)])
    assert undefined["test_kendall_tau"] == {"mean": None, "std": None, "n": 3}


def test_build_record_fills_summary_seeds_environment_and_time() -> None:
    record = make_record()
    assert record["schema_version"] == SCHEMA_VERSION
    assert record["seeds"] == [0, 1, 2]
    # taus 0.8, 0.9, 0.85 of 6 models: the nearest attainable is 13/15 for each
    assert record["summary"]["test_kendall_tau"]["mean"] == pytest.approx(13 / 15)
    assert record["predictions"]["actual_sr"][1] == 0.2  # float32 kept short, not 0.2000000029
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record["created"])
    validate_record(record)


def test_zoo_info_of_a_real_zoo(bench_test) -> None:
    info = zoo_info(bench_test)
    assert info == {"preset": "bench-test",
                    "config_fingerprint": bench_test.config.fingerprint(),
                    "manifest_sha256": bench_test.manifest_sha256, "num_models": 60,
                    "splits": {"train": 48, "val": 6, "test": 6}}


def test_environment_block() -> None:
    env = environment()
    assert set(env) == {"hardware", "machine", "platform", "python", "versions",
                        "git_revision"}
    assert env["machine"]["cores"] >= 1 and len(env["machine"]["id"]) == 12
    assert "CPU cores" in env["hardware"]
    assert {"jax", "jaxlib", "flax", "optax", "numpy"} <= set(env["versions"])
    assert env["git_revision"] == "unknown" or re.fullmatch(r"[0-9a-f]{40}",
                                                            env["git_revision"])


def test_git_revision_outside_a_checkout_is_unknown(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(results, "_REPO_ROOT", tmp_path)
    assert results._git_revision() == "unknown"


def test_write_then_read_round_trip(tmp_path) -> None:
    record = make_record(taus=(0.8, math.nan))
    path = write_result(record, tmp_path / "results")
    assert path == tmp_path / "results" / f"bench-test-{SHA[:8]}__unf.json"
    assert path.name == result_filename(record)
    text = path.read_text()
    assert "NaN" not in text
    stored = json.loads(text)
    assert stored["runs"][1]["test"]["kendall_tau"] is None
    assert stored["summary"]["test_kendall_tau"]["mean"] is None
    assert read_results(tmp_path / "results") == [stored]
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp files
    # a new evaluation replaces the file
    write_result(make_record(taus=(0.5,)), tmp_path / "results")
    (again,) = read_results(tmp_path / "results")
    assert again["seeds"] == [0]


def test_missing_results_folder_holds_no_results(tmp_path) -> None:
    assert read_results(tmp_path / "absent") == []


def _error(fn, *args) -> str:
    with pytest.raises(TinyZooError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


def _set(record, dotted, value):
    *parents, last = dotted.split(".")
    target = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()


@pytest.mark.parametrize("key,value,expected", [
    ("schema_version", 4, "schema_version: 4: this tinyzoo reads version 3 (a newer"),
    ("schema_version", 2, "schema_version: 2: this tinyzoo reads version 3 (an older "
                          "tiny-rnn-zoo wrote it; re-run the method with tinyzoo bench)"),
    ("code_fingerprint", "abc", "code_fingerprint: 'abc': expected 64 lowercase hex"),
    ("environment.machine", {"id": "x"}, "environment.machine: missing key(s) cpu"),
    ("environment.machine", _DELETE, "environment: missing key(s) machine"),
    ("reads", "brain", "reads: 'brain': expected one of weights, metadata, function"),
    ("method", "a/b", "method: 'a/b' is not a slug"),
    ("display_name", "", "display_name: expected a non-empty string"),
    ("kind", "paper", "kind: 'paper': expected one of builtin, user, submission"),
    ("zoo.manifest_sha256", "abc", "zoo.manifest_sha256: expected 64 lowercase hex"),
    ("zoo.num_models", "60", "zoo.num_models: expected an integer"),
    ("zoo.splits.test", -1, "zoo.splits.test: expected an integer >= 0"),
    ("protocol", None, "protocol: expected an object"),
    ("protocol.epochs", 2.5, "protocol.epochs: expected an integer"),
    ("seeds", [0, 1], "seeds: 2 seeds but 3 runs"),
    ("seeds.0", True, "seeds[0]: expected an integer"),
    ("runs", [], "runs: expected at least one run"),
    ("runs.0.test.kendall_tau", "high", "runs[0].test.kendall_tau: expected a finite number"),
    ("runs.1.test.n", 0, "runs[1].test.n: expected an integer >= 1"),
    ("runs.0.test", None, "runs[0].test: expected an object"),
    ("runs.0.val.extra", 1, "runs[0].val: unknown key(s) extra"),
    ("runs.2.val_tau_per_epoch", "0.5", "runs[2].val_tau_per_epoch: expected a list"),
    ("summary.test_kendall_tau.std", -0.1, "summary.test_kendall_tau.std: expected a number"),
    ("summary.test_r2", _DELETE, "summary: missing key(s) test_r2"),
    ("audit.num_permutations", 0, "audit.num_permutations: expected an integer >= 1"),
    ("predictions.actual_sr", [0.5], "predictions.actual_sr: 1 values for 6 models"),
    ("predictions.predicted_sr", [[0.5] * 6], "predictions.predicted_sr: 1 lists for 3 runs"),
    ("predictions.predicted_sr.1", [0.5], "predictions.predicted_sr[1]: 1 values for 6"),
    ("test_tau_ci.low", 2.0, "test_tau_ci: low 2.0 above high"),
    ("predictions.model_id.0", -1, "predictions.model_id[0]: expected an integer >= 0"),
    ("environment.versions.jax", 4, "environment.versions.jax: expected a non-empty string"),
    ("environment.git_revision", _DELETE, "environment: missing key(s) git_revision"),
    ("created", "yesterday", "created: 'yesterday' is not an ISO-8601 time"),
    ("surprise", 1, "record: unknown key(s) surprise"),
    ("param_count", _DELETE, "record: missing key(s) param_count"),
])
def test_validate_record_names_file_and_key(tmp_path, key, value, expected) -> None:
    record = copy.deepcopy(make_record())
    _set(record, key, value)
    message = _error(validate_record, record, "some/file.json")
    assert message.startswith("some/file.json: "), message
    assert expected in message, message
    # write_result validates first and writes nothing
    message = _error(write_result, record, tmp_path / "out")
    assert expected in message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_submission_records_have_no_protocol_or_seeds() -> None:
    record = make_record(kind="submission", seeds=[], protocol=None)
    validate_record(record)  # seeds [] with 3 runs is fine for a submission
    message = _error(validate_record, {**record, "protocol": make_record()["protocol"]})
    assert "protocol: must be null for a submission" in message
    message = _error(validate_record, {**record, "seeds": [0]})
    assert "seeds: must be [] for a submission" in message


def test_extra_protocol_keys_and_train_losses_are_allowed() -> None:
    record = make_record()
    record["protocol"]["patience"] = 3
    record["runs"][0]["train_loss_per_epoch"] = [0.7, 0.6, 0.5]
    validate_record(record)
    record["runs"][1]["train_loss_per_epoch"] = [0.7, "x"]
    assert "runs[1].train_loss_per_epoch[1]: expected a finite number or null" in _error(
        validate_record, record)


def _write_raw(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,expected", [
    ("{", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "record: expected a JSON object"),
    ('{"schema_version": 3}', "record: missing key(s) method"),
    ('{"schema_version": 1}', "schema_version: 1: this tinyzoo reads version 3 (an older"),
])
def test_read_results_refuses_a_malformed_file(tmp_path, text, expected) -> None:
    folder = tmp_path / "results"
    write_result(make_record(), folder)
    bad = _write_raw(folder, "zzz.json", text)
    message = _error(read_results, folder)
    assert message.startswith(f"{bad}: ") and expected in message, message


def test_read_results_refuses_a_misnamed_record(tmp_path) -> None:
    folder = tmp_path / "results"
    path = write_result(make_record(), folder)
    path.rename(folder / "renamed.json")
    message = _error(read_results, folder)
    assert f"must be named bench-test-{SHA[:8]}__unf.json" in message


def test_read_results_refuses_a_file_instead_of_a_folder(tmp_path) -> None:
    path = _write_raw(tmp_path, "results", "")
    assert "not a folder" in _error(read_results, path)
