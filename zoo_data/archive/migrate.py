"""Convert a format-1 zoo in place into format 2 (:mod:`zoo_data.archive.layout`), and back.

:func:`migrate_zoo` turns a complete format-1 zoo folder (one Parquet file per training
group, every split mixed) into exactly the folder a fresh build of the same config
writes in format 2 (a file per split of each group): the same shard bytes, sidecars,
card and manifest. The manifest keeps the ``builder_version`` and ``versions`` of the
build (the weights were computed with them) and drops a download's ``provenance`` (the
files are no longer the published ones); its sha256 is the zoo's new identity.

A format-2 file ``train-{g}-of-{G}.parquet`` has the name of the format-1 file it is cut
from, so the new files cannot simply be written beside the old ones. The migration is a
roll-forward journal in the hidden folder ``DIR/.migrate/`` (:data:`MIGRATION_DIR`):

1. check the old zoo: manifest, completeness and every shard's sha256
   (:func:`zoo_data.archive.verify.verify_zoo`); nothing is written before;
2. write ``.migrate/journal.json`` (the old zoo's identity), then every group's new
   files and sidecars into ``.migrate/data/`` (each atomic; a group already staged and
   verified is kept), the new card and manifest into ``.migrate/``; the old zoo is
   untouched and loads as before all along;
3. switch: move the new manifest over ``manifest.json`` (one ``os.replace``); from
   here the folder is a format-2 zoo whose files are still being moved in;
4. move every staged file into ``data/`` (renames, no copies), delete the old shards
   and sidecars that have no format-2 namesake, move the card, check every shard's
   sha256 against the new manifest, call ``on_switched(old sha256, new sha256)`` (the
   CLI re-keys result records there) and remove ``.migrate/``.

A kill at any point leaves no half-written file (:mod:`zoo_data.common.atomic`), and running
:func:`migrate_zoo` again finishes the job: before step 3 it resumes staging (a stale
journal of another zoo is discarded), after it it finishes step 4. While step 4 is
unfinished, :func:`zoo_data.zoo.load_zoo` refuses the folder and names this command.
A format-2 zoo without ``.migrate/`` is left untouched, unless it was built before
label files (:mod:`zoo_data.archive.label_file`): then the sha256 of its label file is
added to its manifest (through the same journal and :func:`_finish`, so a kill before
the records are re-keyed is finished by the next run).

:func:`write_format1_zoo` does the inverse into a new folder: the files the builder
wrote before format 2, byte for byte (the tests check it against recorded hashes).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo_data.archive.card import dataset_card
from zoo_data.archive.folder import complete_group, labels_sha256, prepare_zoo_dir, shards_table
from zoo_data.archive.label_file import LABELS_KEY
from zoo_data.archive.layout import CARD, DATA, FORMAT_VERSION, MANIFEST, MIGRATION_DIR, ZooLayout
from zoo_data.archive.manifest import manifest_config, new_manifest, parse_manifest, read_manifest
from zoo_data.archive.shard_files import group_table, read_shard_table, write_group
from zoo_data.archive.verify import verify_zoo
from zoo_data.common.atomic import atomic_write, json_bytes, read_json_object
from zoo_data.common.progress import progress_bar
from zoo_data.errors import TinyZooError

__all__ = ["JOURNAL", "PROGRESS_BYTES", "MigrationReport", "migrate_zoo", "write_format1_zoo"]

#: The journal of an unfinished migration, in :data:`~zoo_data.archive.layout.MIGRATION_DIR`.
JOURNAL = "journal.json"
#: Shard bytes from which a migration shows its progress: about 5 s of work on two
#: shared CPU cores (110 MiB of small-v2 shards migrate in 2.1 s there).
PROGRESS_BYTES = 128 << 20


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate_zoo` did.

    ``status``: ``"migrated"`` (converted now), ``"labelled"`` (a format-2 zoo built
    before label files got its label file's sha256 in its manifest: a new identity, no
    shard changed), ``"finished"`` (an interrupted migration completed) or
    ``"current"`` (already format 2 with its label file's sha256, untouched).
    ``old_manifest_sha256`` is
    ``None`` when nothing was migrated now; ``groups_staged`` counts groups converted by
    this call, ``groups_reused`` those a killed run had staged already."""

    zoo_dir: Path
    status: str
    format_version: int
    old_manifest_sha256: str | None
    new_manifest_sha256: str
    groups_staged: int = 0
    groups_reused: int = 0


def _identity(zoo_dir: Path, manifest: dict) -> str:
    """The zoo's identity (:attr:`zoo_data.zoo.Zoo.manifest_sha256`)."""
    provenance = manifest.get("provenance")
    if provenance is not None:
        return provenance["manifest_sha256"]
    return hashlib.sha256((zoo_dir / MANIFEST).read_bytes()).hexdigest()


def _check_old(zoo_dir: Path, manifest: dict) -> ZooLayout:
    """The format-1 layout of the complete, intact zoo in ``zoo_dir``."""
    where = zoo_dir / MANIFEST
    config = manifest_config(manifest, str(where))
    if manifest.get("complete") is not True:
        raise TinyZooError(f"{where}: the zoo is not complete; only a complete zoo is "
                           "migrated (rebuild it: builds write format 2)")
    report = verify_zoo(zoo_dir, manifest)
    if not report.ok:
        path, message = report.problems[0]
        raise TinyZooError(f"{path}: {message}; not migrated (run 'tinyzoo verify "
                           f"{zoo_dir}')")
    return ZooLayout.of(config, 1)


def _stage_group(zoo_dir: Path, staging: Path, old: ZooLayout, new: ZooLayout,
                 group_index: int) -> dict[str, str]:
    (file,) = old.group_files(group_index)
    path = zoo_dir / DATA / file.name
    table = read_shard_table(path, old.config)
    c = old.config.rows_per_model
    want = (np.repeat(np.asarray(file.model_ids, np.int64), c) * c
            + np.tile(np.arange(c, dtype=np.int64), len(file.model_ids)))
    got = table.column("model_id").to_numpy()
    if not np.array_equal(got, want):
        raise TinyZooError(f"{path}: its model_id column is not group {group_index}'s rows "
                           "in order; not migrated")
    return write_group(staging, new, group_index, table)


def _stage(zoo_dir: Path, staging: Path, manifest: dict, identity: str, old: ZooLayout,
           progress: bool) -> tuple[int, int]:
    """Step 2 of the module docstring; returns (groups staged, groups reused)."""
    journal = {"from_format_version": 1, "to_format_version": FORMAT_VERSION,
               "from_manifest_sha256": identity,
               "config_fingerprint": old.config.fingerprint()}
    if staging.exists() and read_json_object(staging / JOURNAL) != journal:
        shutil.rmtree(staging)  # staged for another zoo (or never journaled): start over
    (staging / DATA).mkdir(parents=True, exist_ok=True)
    atomic_write(staging / JOURNAL, json_bytes(journal))
    new = ZooLayout.of(old.config)
    shas: dict[str, str] = {}
    staged = reused = 0
    size = sum((zoo_dir / DATA / f.name).stat().st_size for f in old.files)
    with progress_bar(len(new.groups), f"migrating {zoo_dir.name} to format "
                      f"{FORMAT_VERSION}", "group",
                      enabled=progress and size >= PROGRESS_BYTES) as bar:
        for group in new.groups:
            done = complete_group(staging, new, group.index)
            if done is None:
                done = _stage_group(zoo_dir, staging, old, new, group.index)
                staged += 1
            else:
                reused += 1
            shas.update(done)
            bar.update(1)
    manifest_v2 = _new_manifest(new, shas, manifest, staging)
    atomic_write(staging / CARD, dataset_card(new.config, new.format_version).encode())
    atomic_write(staging / MANIFEST, json_bytes(manifest_v2))
    return staged, reused


def _new_manifest(layout: ZooLayout, shas: dict[str, str], built: dict,
                  zoo_dir: Path) -> dict:
    """The complete manifest of ``layout``'s zoo with ``shas`` (its shards in
    ``zoo_dir/data``), keeping the builder and library versions of the manifest
    ``built``."""
    return new_manifest(layout, shards_table(layout, shas), True,
                        builder_version=built["builder_version"], versions=built["versions"],
                        labels_sha256=labels_sha256(zoo_dir, layout))


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` over ``dst`` (the same file system: atomic, no copy)."""
    try:
        os.replace(src, dst)
    except OSError as e:
        raise TinyZooError(f"{dst}: cannot move {src.name} here ({e.strerror or e})") from e


def _finish(zoo_dir: Path, staging: Path, manifest: dict,
            on_switched: Callable[[str, str], None] | None) -> str:
    """Step 4 of the module docstring; returns the new manifest's sha256."""
    where = zoo_dir / MANIFEST
    config = manifest_config(manifest, str(where))
    new, old = ZooLayout.of(config), ZooLayout.of(config, 1)
    staged = staging / DATA
    for file in new.files:  # the file first, then the sidecar that marks it complete
        for name in (file.name, file.sidecar):
            if (staged / name).exists():
                _move(staged / name, zoo_dir / DATA / name)
    keep = set(new.shard_names) | set(new.sidecar_names)
    for file in old.files:
        for name in (file.name, file.sidecar):
            if name not in keep:
                try:
                    (zoo_dir / DATA / name).unlink(missing_ok=True)
                except OSError as e:
                    raise TinyZooError(f"{zoo_dir / DATA / name}: cannot remove the old "
                                       f"shard ({e.strerror or e})") from e
    if (staging / CARD).exists():
        _move(staging / CARD, zoo_dir / CARD)
    report = verify_zoo(zoo_dir, manifest)
    if not report.ok:
        path, message = report.problems[0]
        raise TinyZooError(f"{path}: {message}; the migration cannot finish (restore the "
                           "zoo from its source)")
    new_sha = hashlib.sha256(where.read_bytes()).hexdigest()
    journal = read_json_object(staging / JOURNAL)
    if journal is not None:  # no journal: on_switched ran before a kill
        if on_switched is not None:
            on_switched(journal["from_manifest_sha256"], new_sha)
        (staging / JOURNAL).unlink()
    shutil.rmtree(staging)
    return new_sha


def _needs_labels(manifest: dict) -> bool:
    """Whether a format-2 manifest lacks the sha256 of its label file (a zoo built before
    label files), and is this machine's own (a download's manifest is its
    publisher's: its identity stays theirs)."""
    return (LABELS_KEY not in manifest and manifest.get("complete") is True
            and "provenance" not in manifest)


def _add_labels(zoo_dir: Path, staging: Path, manifest: dict, old_sha: str,
                on_switched: Callable[[str, str], None] | None) -> str:
    """Record the label file's sha256 in the manifest of the complete, intact format-2
    zoo in ``zoo_dir`` (the manifest a fresh build writes now; no shard changes), through
    the journal of :func:`_finish` so that a kill before ``on_switched`` has run is
    finished by the next run. Returns the new manifest's sha256."""
    where = zoo_dir / MANIFEST
    config = manifest_config(manifest, str(where))
    report = verify_zoo(zoo_dir, manifest)
    if not report.ok:
        path, message = report.problems[0]
        raise TinyZooError(f"{path}: {message}; not migrated (run 'tinyzoo verify "
                           f"{zoo_dir}')")
    layout = ZooLayout.of(config)
    labelled = new_manifest(layout, manifest["shards"], True,
                            builder_version=manifest["builder_version"],
                            versions=manifest["versions"],
                            labels_sha256=labels_sha256(zoo_dir, layout))
    if {k: v for k, v in labelled.items() if k != LABELS_KEY} != manifest:
        raise TinyZooError(f"{where}: not the manifest this builder writes for its zoo "
                           "(other fields than the label file's sha256 differ); not "
                           "migrated")
    staging.mkdir(exist_ok=True)
    atomic_write(staging / JOURNAL, json_bytes({
        "from_format_version": FORMAT_VERSION, "to_format_version": FORMAT_VERSION,
        "from_manifest_sha256": old_sha, "config_fingerprint": config.fingerprint(),
        "adds": LABELS_KEY}))
    atomic_write(where, json_bytes(labelled))
    return _finish(zoo_dir, staging, labelled, on_switched)


def migrate_zoo(zoo_dir: str | os.PathLike, progress: bool = True,
                on_switched: Callable[[str, str], None] | None = None) -> MigrationReport:
    """Convert the format-1 zoo in ``zoo_dir`` in place to format 2, or finish a
    migration a kill interrupted (see the module docstring). A format-2 zoo is left
    untouched (``status == "current"``), unless its manifest lacks the sha256 of its
    label file (:mod:`zoo_data.archive.label_file`; a zoo built before label files):
    then only that is added (``"labelled"``), the manifest a fresh build writes now.

    ``on_switched(old sha256, new sha256)`` is called once the new zoo is in place and
    verified, before the journal is removed: a kill during it calls it again on the
    next run. ``progress`` shows the progress over groups
    (:func:`zoo_data.common.progress.progress_bar`) for zoos of :data:`PROGRESS_BYTES` or more,
    whose migration takes more than a few seconds.

    Raises:
      TinyZooError: one line naming the file: not a zoo folder, a missing or broken
        manifest, an unknown format version, an incomplete zoo, a damaged shard.
    """
    zoo_dir = Path(zoo_dir)
    if not zoo_dir.is_dir():
        raise TinyZooError(f"{zoo_dir}: no such zoo folder")
    manifest = read_manifest(zoo_dir)
    staging = zoo_dir / MIGRATION_DIR
    version = manifest["format_version"]
    if version == FORMAT_VERSION:
        if not staging.is_dir():
            if _needs_labels(manifest):
                old_sha = _identity(zoo_dir, manifest)
                new_sha = _add_labels(zoo_dir, staging, manifest, old_sha, on_switched)
                return MigrationReport(zoo_dir, "labelled", version, old_sha, new_sha)
            return MigrationReport(zoo_dir, "current", version, None,
                                   _identity(zoo_dir, manifest))
        journal = read_json_object(staging / JOURNAL) or {}
        new_sha = _finish(zoo_dir, staging, manifest, on_switched)
        return MigrationReport(zoo_dir, "finished", version,
                               journal.get("from_manifest_sha256"), new_sha)
    old = _check_old(zoo_dir, manifest)
    old_sha = _identity(zoo_dir, manifest)
    staged, reused = _stage(zoo_dir, staging, manifest, old_sha, old, progress)
    # the switch (step 3): from here on the folder is a format-2 zoo being finished
    staged_manifest = staging / MANIFEST
    switched = parse_manifest(staged_manifest.read_bytes(), str(staged_manifest))
    _move(staged_manifest, zoo_dir / MANIFEST)
    new_sha = _finish(zoo_dir, staging, switched, on_switched)
    return MigrationReport(zoo_dir, "migrated", FORMAT_VERSION, old_sha, new_sha,
                           staged, reused)


def write_format1_zoo(src: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write the zoo in ``src`` (format 2, complete and intact) into the new folder
    ``out`` in format 1: a file per training group with all its rows, the sidecars,
    card and manifest the builder wrote before format 2 (builder and library versions
    kept). Returns ``out``.

    Raises:
      TinyZooError: if ``src`` is not a complete, intact format-2 zoo, or ``out`` is not
        a new or empty folder.
    """
    src, out = Path(src), Path(out)
    manifest = read_manifest(src)
    where = src / MANIFEST
    if manifest["format_version"] != 2:
        raise TinyZooError(f"{where}: format {manifest['format_version']}, not 2")
    report = verify_zoo(src, manifest)
    if not report.ok:
        path, message = report.problems[0]
        raise TinyZooError(f"{path}: {message}")
    config = manifest_config(manifest, str(where))
    new, old = ZooLayout.of(config), ZooLayout.of(config, 1)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TinyZooError(f"{out}: not a new or empty folder")
    prepare_zoo_dir(out, old)
    shas: dict[str, str] = {}
    for group in new.groups:
        tables = [read_shard_table(src / DATA / f.name, config)
                  for f in new.group_files(group.index)]
        shas.update(write_group(out, old, group.index, group_table(tables)))
    atomic_write(out / CARD, dataset_card(config, 1).encode())
    atomic_write(out / MANIFEST, json_bytes(_new_manifest(old, shas, manifest, out)))
    return out
