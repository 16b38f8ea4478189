"""A zoo's label file (zoo_data/archive/label_file.py): its sha256 is in every new
manifest, ``verify`` checks the shards' labels against it, ``migrate`` adds it to a zoo
built before it (the manifest a fresh build writes, records re-keyed, finished after a
kill), and a malformed label file is one line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.fixtures.hostile_zoos import rewrite
from zoo_data.archive.label_file import (
    LABELS_KEY,
    check_label_file,
    label_file_bytes,
    label_file_of_shards,
    parse_label_file,
)
from zoo_data.archive.layout import MIGRATION_DIR
from zoo_data.archive.migrate import migrate_zoo
from zoo_data.archive.verify import verify_zoo
from zoo_data.common.atomic import json_bytes
from zoo_data.errors import TinyZooError


class Killed(BaseException):
    """A simulated kill."""


def shard_labels(zoo: Path) -> tuple[np.ndarray, np.ndarray]:
    tables = [pq.read_table(p, columns=["model_id", "test_sr"])
              for p in sorted((zoo / "data").glob("*.parquet"))]
    ids = np.concatenate([t.column("model_id").to_numpy() for t in tables])
    srs = np.concatenate([t.column("test_sr").to_numpy() for t in tables])
    order = np.argsort(ids)
    return ids[order], srs[order]


def unlabelled(zoo: Path) -> bytes:
    """Turn ``zoo`` into one built before label files (its manifest without the
    label file's sha256, as such a build wrote it); returns the full manifest's bytes."""
    full = (zoo / "manifest.json").read_bytes()
    manifest = json.loads(full)
    del manifest[LABELS_KEY]
    (zoo / "manifest.json").write_bytes(json_bytes(manifest))
    return full


def test_a_build_records_the_sha256_of_its_label_file(synthetic_zoo_master):
    manifest = json.loads((synthetic_zoo_master / "manifest.json").read_text())
    raw = label_file_of_shards(synthetic_zoo_master, sorted(manifest["shards"]))
    assert manifest[LABELS_KEY] == hashlib.sha256(raw).hexdigest()
    check_label_file(raw, manifest, "labels.csv")
    ids, srs = parse_label_file(raw, "labels.csv")
    want_ids, want_srs = shard_labels(synthetic_zoo_master)
    assert np.array_equal(ids, want_ids) and ids.size == manifest["num_models"] * 1
    assert srs.dtype == np.float32 and np.array_equal(srs, want_srs)  # exactly, as stored


def test_verify_refuses_shards_whose_labels_are_not_the_manifests(synthetic_zoo):
    assert verify_zoo(synthetic_zoo).ok
    # a hostile publisher rewrites a label and every shard hash, not the label file's
    path, _ = rewrite(synthetic_zoo, "test", lambda c: c["test_sr"].__setitem__(0, 0.5)
                      or c["model_id"][0])
    problems = verify_zoo(synthetic_zoo).problems
    assert len(problems) == 1 and "not the manifest's labels_sha256" in problems[0][1]


def test_migrate_adds_the_label_file_as_a_fresh_build_writes_it(synthetic_zoo):
    full = unlabelled(synthetic_zoo)
    old_sha = hashlib.sha256((synthetic_zoo / "manifest.json").read_bytes()).hexdigest()
    calls = []
    report = migrate_zoo(synthetic_zoo, progress=False, on_switched=lambda *a: calls.append(a))
    new_sha = hashlib.sha256(full).hexdigest()
    assert report.status == "labelled"
    assert (report.old_manifest_sha256, report.new_manifest_sha256) == (old_sha, new_sha)
    assert (synthetic_zoo / "manifest.json").read_bytes() == full
    assert calls == [(old_sha, new_sha)] and not (synthetic_zoo / MIGRATION_DIR).exists()
    assert migrate_zoo(synthetic_zoo, progress=False).status == "current"


def test_a_kill_before_the_records_move_is_finished_by_the_next_run(synthetic_zoo,
                                                                    monkeypatch):
    import zoo_data.archive.migrate as migrate

    full = unlabelled(synthetic_zoo)
    finish = migrate._finish

    def killed(*args):
        raise Killed

    monkeypatch.setattr(migrate, "_finish", killed)
    with pytest.raises(Killed):
        migrate_zoo(synthetic_zoo, progress=False)
    monkeypatch.setattr(migrate, "_finish", finish)
    calls = []
    report = migrate_zoo(synthetic_zoo, progress=False, on_switched=lambda *a: calls.append(a))
    assert report.status == "finished" and len(calls) == 1
    assert calls[0][1] == hashlib.sha256(full).hexdigest()
    assert (synthetic_zoo / "manifest.json").read_bytes() == full


def test_the_cli_migrates_and_rekeys_a_zoos_records(synthetic_zoo, tmp_path, capsys):
    from tests.fixtures.cli import cli

    unlabelled(synthetic_zoo)
    code, out, err = cli(capsys, "migrate", str(synthetic_zoo), "--results-dir",
                         str(tmp_path / "none"), "--quiet")
    assert code == 0, err
    assert "recorded the sha256 of its label file" in out


@pytest.mark.parametrize("raw, message", [
    (b"id,sr\n0,0.5\n", "not a label file"),
    (b"model_id,test_sr\n0,0.5", "not a label file"),
    (b"model_id,test_sr\n0,1.5\n", "line 2"),
    (b"model_id,test_sr\n0,nan\n", "line 2"),
    (b"model_id,test_sr\n-1,0.5\n", "line 2"),
    (b"model_id,test_sr\n\xd9\xa1,0.5\n", "not an ASCII label file"),
    (b"model_id,test_sr\n3,0.5\n2,0.5\n", "line 3: model_id 2 after 3"),
], ids=["header", "no-newline", "above-one", "nan", "negative", "arabic-digit",
        "unsorted"])
def test_a_malformed_label_file_is_one_line(raw, message):
    with pytest.raises(TinyZooError) as err:
        parse_label_file(raw, "labels.csv")
    assert "\n" not in str(err.value) and message in str(err.value)
    assert str(err.value).startswith("labels.csv: ")


def test_a_label_file_of_another_zoo_is_refused():
    raw = label_file_bytes(np.arange(3), np.float32([0.1, 0.2, 0.3]))
    with pytest.raises(TinyZooError, match="not this zoo's labels"):
        check_label_file(raw, {LABELS_KEY: "0" * 64}, "labels.csv")
    with pytest.raises(TinyZooError, match="records no labels_sha256"):
        check_label_file(raw, {}, "labels.csv")


def test_a_downloaded_zoo_keeps_its_publishers_identity(synthetic_zoo):
    unlabelled(synthetic_zoo)
    manifest = json.loads((synthetic_zoo / "manifest.json").read_text())
    manifest["provenance"] = {"source": "http://127.0.0.1/zoo", "hosts": ["127.0.0.1"],
                              "manifest_sha256": "1" * 64}
    (synthetic_zoo / "manifest.json").write_bytes(json_bytes(manifest))
    before = (synthetic_zoo / "manifest.json").read_bytes()
    assert migrate_zoo(synthetic_zoo, progress=False).status == "current"
    assert (synthetic_zoo / "manifest.json").read_bytes() == before
    shutil.rmtree(synthetic_zoo)


def test_verify_says_whether_the_labels_were_checked(synthetic_zoo, capsys):
    from tests.fixtures.cli import cli

    code, out, err = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    assert code == 0, err
    assert out.strip().endswith("zoo complete; its labels are its label file's")
    unlabelled(synthetic_zoo)
    code, out, _ = cli(capsys, "verify", str(synthetic_zoo), "--quiet")
    assert code == 0 and "no label file recorded" in out
