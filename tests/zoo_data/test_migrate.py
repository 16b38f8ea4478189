"""``tinyzoo migrate``: a format-1 zoo becomes, in place, byte for byte the format-2 zoo
a fresh build writes; a kill at any point is finished by running it again; bad input
is refused with one line, before anything is written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.cli import cli, one_line_error
from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.layout import MIGRATION_DIR, ZooLayout
from zoo_data.archive.migrate import migrate_zoo, write_format1_zoo
from zoo_data.archive.verify import verify_zoo
from zoo_data.errors import TinyZooError
from zoo_data.zoo import load_zoo


class Killed(BaseException):
    """A simulated kill (not an Exception: nothing may catch it)."""


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def format1_master(synthetic_zoo_master, tmp_path_factory) -> Path:
    return write_format1_zoo(synthetic_zoo_master, tmp_path_factory.mktemp("f1") / "zoo")


@pytest.fixture
def old_zoo(format1_master, tmp_path) -> Path:
    """A private copy of the format-1 synthetic zoo."""
    return Path(shutil.copytree(format1_master, tmp_path / "old"))


def test_migrating_gives_the_fresh_format2_zoo_byte_for_byte(old_zoo, synthetic_zoo_master):
    old_sha = load_zoo(old_zoo).manifest_sha256
    calls = []
    report = migrate_zoo(old_zoo, progress=False, on_switched=lambda *a: calls.append(a))
    assert report.status == "migrated" and report.format_version == 2
    assert report.groups_staged == len(ZooLayout.of(DATA_CONFIG).groups)
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)  # shards, sidecars, card, manifest
    assert calls == [(old_sha, load_zoo(old_zoo).manifest_sha256)] == [
        (report.old_manifest_sha256, report.new_manifest_sha256)]
    # a format-2 zoo is left as it is
    again = migrate_zoo(old_zoo, progress=False, on_switched=lambda *a: calls.append(a))
    assert again.status == "current" and len(calls) == 1
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)


def _kill_while_staging(monkeypatch):
    import zoo_data.archive.shard_files as shard_files

    write_sidecar = shard_files.write_sidecar

    def dies_after_the_first_file(*args):
        write_sidecar(*args)
        raise Killed

    monkeypatch.setattr(shard_files, "write_sidecar", dies_after_the_first_file)


def _kill_at_the_switch(monkeypatch):
    import zoo_data.archive.migrate as migrate

    def dies(*args):
        raise Killed

    monkeypatch.setattr(migrate, "_finish", dies)


def _kill_while_moving(monkeypatch):
    import zoo_data.archive.migrate as migrate

    move, done = migrate._move, []

    def dies_after_three(src, dst):  # the manifest and two data files
        if len(done) == 3:
            raise Killed
        move(src, dst)
        done.append(dst)

    monkeypatch.setattr(migrate, "_move", dies_after_three)


KILLS = {"staging": _kill_while_staging, "switch": _kill_at_the_switch,
         "moving": _kill_while_moving, "records": None}


@pytest.mark.parametrize("where", list(KILLS))
def test_a_killed_migration_is_finished_by_running_it_again(old_zoo, synthetic_zoo_master,
                                                            monkeypatch, where):
    old_sha = load_zoo(old_zoo).manifest_sha256
    calls = []

    def on_switched(*shas):
        calls.append(shas)
        if where == "records" and len(calls) == 1:
            raise Killed

    with monkeypatch.context() as patch:
        if KILLS[where] is not None:
            KILLS[where](patch)
        with pytest.raises(Killed):
            migrate_zoo(old_zoo, progress=False, on_switched=on_switched)
    assert (old_zoo / MIGRATION_DIR).is_dir()
    assert not [p for p in old_zoo.rglob("*") if ".tmp-" in p.name]  # nothing half written
    if where == "staging":  # before the switch the old zoo is whole and in use
        assert load_zoo(old_zoo).manifest["format_version"] == 1
        assert verify_zoo(old_zoo).ok
    else:  # after it, loading names the command that finishes the job
        with pytest.raises(TinyZooError, match="unfinished; run 'tinyzoo migrate") as e:
            load_zoo(old_zoo)
        assert "\n" not in str(e.value)

    report = migrate_zoo(old_zoo, progress=False, on_switched=on_switched)
    assert report.status == ("migrated" if where == "staging" else "finished")
    if where == "staging":  # the group whose only file was written is kept
        assert report.groups_reused == 1
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)
    new_sha = load_zoo(old_zoo).manifest_sha256
    assert calls[-1] == (old_sha, new_sha) and report.old_manifest_sha256 == old_sha
    assert len(calls) == (2 if where == "records" else 1)


def test_a_stale_staging_folder_of_another_zoo_is_discarded(old_zoo, synthetic_zoo_master):
    stale = old_zoo / MIGRATION_DIR / "data"
    stale.mkdir(parents=True)
    (stale / "train-00000-of-00009.parquet").write_bytes(b"another zoo's")
    (old_zoo / MIGRATION_DIR / "journal.json").write_text('{"from_manifest_sha256": "x"}')
    assert migrate_zoo(old_zoo, progress=False).status == "migrated"
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)


def test_a_downloaded_zoo_keeps_its_identity_until_migrated(old_zoo, synthetic_zoo_master):
    manifest = json.loads((old_zoo / "manifest.json").read_text())
    manifest["provenance"] = {"source": "https://example.org/zoo", "hosts": ["example.org"],
                              "manifest_sha256": "ab" * 32}
    (old_zoo / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    report = migrate_zoo(old_zoo, progress=False)
    assert report.old_manifest_sha256 == "ab" * 32
    # the files are no longer the published ones: the provenance goes, the zoo is the
    # one a fresh build (or the publisher's own migration) has
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)


def _not_a_folder(zoo: Path) -> Path:
    return zoo / "nope"


def _no_manifest(zoo: Path) -> Path:
    (zoo / "manifest.json").unlink()
    return zoo


def _broken_manifest(zoo: Path) -> Path:
    raw = (zoo / "manifest.json").read_bytes()
    (zoo / "manifest.json").write_bytes(raw[: len(raw) // 2])
    return zoo


def _edit_manifest(**changes):
    def edit(zoo: Path) -> Path:
        manifest = json.loads((zoo / "manifest.json").read_text())
        manifest.update(changes)
        (zoo / "manifest.json").write_text(json.dumps(manifest))
        return zoo
    return edit


def _damaged_shard(zoo: Path) -> Path:
    shard = zoo / "data" / "train-00003-of-00009.parquet"
    blob = bytearray(shard.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    shard.write_bytes(bytes(blob))
    return zoo


@pytest.mark.parametrize("spoil, file, message", [
    (_not_a_folder, "nope", "no such zoo folder"),
    (_no_manifest, "manifest.json", "no zoo manifest (not a zoo folder?)"),
    (_broken_manifest, "manifest.json", "truncated or invalid JSON"),
    (_edit_manifest(format_version=3), "manifest.json", "zoo format version 3"),
    (_edit_manifest(complete=False), "manifest.json", "not complete"),
    (_damaged_shard, "train-00003-of-00009.parquet", "sha256 mismatch"),
], ids=["not-a-folder", "no-manifest", "broken-manifest", "unknown-format", "incomplete",
        "damaged-shard"])
def test_bad_input_is_one_line_exit_2_and_nothing_is_written(old_zoo, capsys, spoil, file,
                                                             message):
    target = spoil(old_zoo)
    before = snapshot(old_zoo)
    with pytest.raises(TinyZooError) as e:
        migrate_zoo(target, progress=False)
    assert "\n" not in str(e.value) and file in str(e.value) and message in str(e.value)
    code, _, err = cli(capsys, "migrate", str(target), "--quiet")
    line = one_line_error(code, err)
    assert message in line and file in line
    assert snapshot(old_zoo) == before and not (old_zoo / MIGRATION_DIR).exists()


def test_the_cli_migrates_then_says_there_is_nothing_to_do(old_zoo, synthetic_zoo_master,
                                                         tmp_path, capsys):
    code, out, err = cli(capsys, "migrate", str(old_zoo), "--results-dir",
                         str(tmp_path / "none"), "--quiet")
    assert code == 0, err
    assert f"{old_zoo}: migrated to archive format 2" in out
    assert snapshot(old_zoo) == snapshot(synthetic_zoo_master)
    code, out, err = cli(capsys, "migrate", str(old_zoo), "--quiet")
    assert code == 0 and "already in archive format 2" in out and "nothing to do" in out
