"""A migrated zoo gives bit for bit the results of the zoo it was migrated from (the
protocol reads rows by ``model_id``, whatever the files), which is why ``tinyzoo
migrate`` may carry the old zoo's result records over to the new one
(:mod:`benchmarks.rekey`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks import ProtocolConfig, run_protocol
from benchmarks.bench import run_benchmark
from benchmarks.rekey import rekey_records
from benchmarks.results import read_result, write_result
from predictors.baselines import LinearStats
from tests.fixtures.cli import cli
from tests.fixtures.records import make_record
from zoo_data.archive.migrate import migrate_zoo, write_format1_zoo
from zoo_data.zoo import open_local_zoo

FAST = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)


@pytest.fixture(scope="module")
def both_formats(bench_zoo_dir, tmp_path_factory) -> tuple[Path, Path]:
    """The bench zoo in format 1, and that folder migrated to format 2 (a copy)."""
    root = tmp_path_factory.mktemp("formats")
    old = write_format1_zoo(bench_zoo_dir, root / "old")
    new = Path(shutil.copytree(old, root / "new"))
    migrate_zoo(new, progress=False)
    return old, new


def test_the_protocol_gives_bitwise_the_same_results_on_both_formats(both_formats):
    # a Dense layer on weight statistics, trained on shuffled batches (STATNN's deeper
    # network would only add compile time)
    old, new = (open_local_zoo(z) for z in both_formats)
    assert (old.manifest["format_version"], new.manifest["format_version"]) == (1, 2)
    a = run_protocol(LinearStats(), old, seed=0, config=FAST)
    b = run_protocol(LinearStats(), new, seed=0, config=FAST)
    for name in ("test_model_ids", "test_predicted", "test_actual"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    assert a.val_tau_per_epoch == b.val_tau_per_epoch
    assert a.train_loss_per_epoch == b.train_loss_per_epoch
    assert (a.val, a.test, a.best_epoch) == (b.val, b.test, b.best_epoch)


def test_migrate_rekeys_the_records_to_what_a_bench_on_the_new_zoo_writes(
        bench_zoo_dir, tmp_path, capsys):
    zoo = write_format1_zoo(bench_zoo_dir, tmp_path / "zoo")
    results = tmp_path / "results"
    _, before = run_benchmark("linear-stats", zoo, 1, FAST, results, progress=False)
    old_sha = open_local_zoo(zoo).manifest_sha256
    assert before.name == f"bench-test-{old_sha[:8]}__linear-stats.json"
    other = write_result(make_record("unf"), results)  # another zoo's record: untouched
    other_bytes, old_bytes = other.read_bytes(), before.read_bytes()

    code, out, err = cli(capsys, "migrate", str(zoo), "--results-dir", str(results),
                         "--quiet")
    assert code == 0, err
    new_sha = open_local_zoo(zoo).manifest_sha256
    after = results / f"bench-test-{new_sha[:8]}__linear-stats.json"
    assert "re-keyed 1 result records" in out
    assert not before.exists() and other.read_bytes() == other_bytes
    # the saved seed moved with it: the next bench reuses it instead of training again
    seeds = sorted((results / ".partial").rglob("seed-*.json"))
    assert [p.parent.name for p in seeds] == [f"bench-test-{new_sha[:8]}__linear-stats"]
    assert json.loads(seeds[0].read_text())["context"]["zoo"]["manifest_sha256"] == new_sha
    record = read_result(after)
    assert record["zoo"]["manifest_sha256"] == new_sha
    # nothing but the zoo's sha256 changed
    assert after.read_bytes() == old_bytes.replace(old_sha.encode(), new_sha.encode())

    # benchmarking the migrated zoo reproduces the re-keyed record: the file stays as it is
    _, again = run_benchmark("linear-stats", zoo, 1, FAST, results, progress=False)
    assert again == after and after.read_bytes() == old_bytes.replace(old_sha.encode(),
                                                                      new_sha.encode())
    assert json.loads(after.read_bytes())["created"] == json.loads(old_bytes)["created"]


def test_rekey_resumes_and_keeps_a_conflicting_record(tmp_path):
    results = tmp_path / "results"
    old_sha, new_sha = "ab" * 32, "cd" * 32
    old = write_result(make_record("unf"), results)
    moved = rekey_records(results, old_sha, new_sha).moved
    assert [(p.name, q.name) for p, q in moved] == [
        ("bench-test-abababab__unf.json", "bench-test-cdcdcdcd__unf.json")]
    # a kill after the new file was written: the old one is back; a re-run removes it
    write_result(make_record("unf"), results)
    assert len(rekey_records(results, old_sha, new_sha).moved) == 1 and not old.exists()
    # a different record of the method on the new zoo is kept; the old one stays too
    write_result(make_record("unf"), results)
    new_path = moved[0][1]
    new_path.write_text(new_path.read_text().replace('"display_name": "UNF"',
                                                     '"display_name": "UNF v2"'))
    report = rekey_records(results, old_sha, new_sha)
    assert report.moved == [] and report.conflicts == [old] and old.exists()
    assert rekey_records(tmp_path / "missing", old_sha, new_sha).moved == []
    assert np.all([p.suffix == ".json" for p in results.iterdir() if p.is_file()])


def test_rekey_moves_a_split_schemes_records_too(tmp_path):
    results = tmp_path / "results"
    old_sha, new_sha = "ab" * 32, "cd" * 32
    base = make_record("unf")
    shifted = make_record("unf", zoo={**base["zoo"], "split_scheme": "lr-shift",
                                      "split_rule": "the top fifth of log learning rate"})
    write_result(base, results)
    old = write_result(shifted, results)
    assert old.name == "bench-test-abababab.lr-shift__unf.json"
    moved = rekey_records(results, old_sha, new_sha).moved
    assert sorted(q.name for _, q in moved) == [
        "bench-test-cdcdcdcd.lr-shift__unf.json", "bench-test-cdcdcdcd__unf.json"]
