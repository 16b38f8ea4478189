"""Carry result records over to a zoo's new identity after ``tinyzoo migrate``.

A record names its zoo by the sha256 of the zoo's manifest (:func:`benchmarks.results.
zoo_info`), in its ``zoo`` block and in its file name
``<preset>-<manifest_sha256[:8]>__<method>.json``. Migrating a zoo to another archive
format (:mod:`zoo_data.archive.migrate`) rewrites its manifest, hence its sha256, but not one
row: the protocol reads rows by ``model_id`` (:class:`zoo_data.archive.reader.ShardReader` sorts
them), so every result on the old zoo is bit for bit the result on the new one (the
tests run the protocol on both to show it). :func:`rekey_records` therefore gives every
record of the old zoo the new sha256 and the file name that goes with it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.results import read_result, result_filename, zoo_key
from benchmarks.validation import validate_record
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError

__all__ = ["RekeyReport", "rekey_records"]


@dataclass(frozen=True)
class RekeyReport:
    """``moved``: ``(old path, new path)`` of each re-keyed record; ``conflicts``: old
    records left in place because a different record already has the new name;
    ``seeds``: ``(old path, new path)`` of each moved saved seed."""

    moved: list[tuple[Path, Path]] = field(default_factory=list)
    conflicts: list[Path] = field(default_factory=list)
    seeds: list[tuple[Path, Path]] = field(default_factory=list)


def _record_bytes(record: dict) -> bytes:
    """A record as :func:`benchmarks.results.write_result` writes it."""
    return (json.dumps(record, indent=2, allow_nan=False) + "\n").encode()


def rekey_records(results_dir: str | os.PathLike, old_sha256: str,
                  new_sha256: str) -> RekeyReport:
    """Give every record in ``results_dir`` whose zoo's ``manifest_sha256`` is
    ``old_sha256`` (under any split scheme) the sha256 ``new_sha256`` and its new file
    name, and move its saved seeds too (:func:`_rekey_saved_seeds`) (written atomically,
    then the old file removed; nothing else in the record changes). A missing folder
    holds no record. Re-running after a kill finishes the job: a new file that is
    already exactly the re-keyed record only has its old file removed. A new file with
    other content (the method was evaluated on the new zoo meanwhile) is kept, and the
    old record is reported as a conflict and left in place.

    Raises:
      TinyZooError: naming a candidate record (``*-<old sha256[:8]>__*.json``) that is
        not a valid record.
    """
    results_dir = Path(results_dir)
    report = RekeyReport()
    if old_sha256 == new_sha256 or not results_dir.is_dir():
        return report
    for path in sorted(results_dir.glob(f"*-{old_sha256[:8]}*__*.json")):
        record = read_result(path)
        if record["zoo"]["manifest_sha256"] != old_sha256:
            continue  # another zoo whose sha256 starts alike
        moved = dict(record, zoo=dict(record["zoo"], manifest_sha256=new_sha256))
        validate_record(moved, str(path))
        new_path = results_dir / result_filename(moved)
        data = _record_bytes(moved)
        if new_path.is_file():
            try:
                same = new_path.read_bytes() == data
            except OSError as e:
                raise TinyZooError(f"{new_path}: cannot read ({e.strerror or e})") from e
            if not same:
                report.conflicts.append(path)
                continue
        else:
            atomic_write(new_path, data)
        try:
            path.unlink()
        except OSError as e:
            raise TinyZooError(f"{path}: cannot remove ({e.strerror or e})") from e
        report.moved.append((path, new_path))
    report.seeds.extend(_rekey_saved_seeds(results_dir / ".partial", old_sha256, new_sha256))
    return report


def _rekey_saved_seeds(partial: Path, old_sha256: str,
                       new_sha256: str) -> list[tuple[Path, Path]]:
    """Move the saved seeds (``.partial/<zoo>__<method>/seed-<k>.json``,
    :mod:`benchmarks.bench`) of the old zoo to the new zoo's folder, their context's
    sha256 replaced (a seed is still this zoo's: not one weight changed). Each seed is
    written atomically before its old file is removed; a rerun after a kill finishes."""
    moved = []
    if not partial.is_dir():
        return moved
    for folder in sorted(partial.glob(f"*-{old_sha256[:8]}*__*")):
        for path in sorted(folder.glob("seed-*.json")):
            try:
                saved = json.loads(path.read_text())
                zoo = saved["context"]["zoo"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not a saved seed: a run would not reuse it either
            if zoo.get("manifest_sha256") != old_sha256:
                continue
            zoo["manifest_sha256"] = new_sha256
            method = folder.name.rsplit("__", 1)[1]
            target = partial / f"{zoo_key(zoo)}__{method}" / path.name
            target.parent.mkdir(exist_ok=True)
            atomic_write(target, json.dumps(saved, indent=2).encode())
            path.unlink()
            moved.append((path, target))
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return moved
