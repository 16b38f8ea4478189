"""Re-check a local zoo against its manifest: :func:`verify_zoo` (every check, a report)
and :func:`check_shards` (the sha256 of every shard, before a zoo is used).

:func:`check_shards` hashes each shard at most once per process: it remembers the shard
files it verified by ``(real path, size, mtime_ns, inode, sha256)``, so opening the same
zoo again is free while a file rewritten since (another size, time or inode) is hashed
again. Setting ``TINYZOO_NO_VERIFY=1`` (the CLI's ``--no-verify``) skips the hashing
for people who know their files are intact; child processes inherit it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from zoo_data.archive.label_file import LABELS_KEY, check_label_file, label_file_of_shards
from zoo_data.archive.layout import DATA, MANIFEST, ZooLayout
from zoo_data.archive.manifest import manifest_config, read_manifest
from zoo_data.archive.seal import test_labels_sealed
from zoo_data.archive.splits import split_record
from zoo_data.archive.values import check_shard_values, values_error
from zoo_data.common.atomic import sha256_file
from zoo_data.errors import TinyZooError

__all__ = ["VerifyReport", "verify_zoo", "check_shards", "verification_wanted",
           "NO_VERIFY_ENV"]

#: Environment variable that turns :func:`check_shards` off (``1``).
NO_VERIFY_ENV = "TINYZOO_NO_VERIFY"

_verified: set[tuple] = set()


def verification_wanted(verify: bool | None = None) -> bool:
    """``verify`` if given, else whether :data:`NO_VERIFY_ENV` is unset (or ``0``)."""
    if verify is not None:
        return verify
    return os.environ.get(NO_VERIFY_ENV, "0") in ("", "0")


def _file_key(path: Path, want: str) -> tuple:
    st = path.stat()
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino, want)


def check_shards(zoo_dir: str | os.PathLike, shards: dict, config=None) -> int:
    """Check that every shard ``shards`` lists (``{name: {"sha256": ...}}``, a manifest's)
    is a regular file in ``zoo_dir/data`` (not a symbolic link) with that sha256 and,
    given the zoo's ``config``, values that make sense
    (:func:`zoo_data.archive.values.check_shard_values`); each file is checked once per
    process (see the module docstring). Returns the number of shards hashed now.

    Raises:
      TinyZooError: one line naming the first missing, linked or damaged shard (and,
        for a value, its column and model) and ``tinyzoo verify``.
    """
    zoo_dir = Path(zoo_dir)
    hashed = 0
    for name in sorted(shards):
        path = zoo_dir / DATA / name
        want = shards[name]["sha256"]
        if path.is_symlink():
            raise TinyZooError(f"{path}: a symbolic link, not a shard file of this zoo "
                               "(copy the file into the folder)")
        try:
            key = _file_key(path, want)
        except FileNotFoundError:
            raise TinyZooError(f"{path}: shard listed in the manifest is missing") from None
        if key in _verified:
            continue
        got = sha256_file(path)
        hashed += 1
        if got != want:
            raise TinyZooError(
                f"{path}: sha256 {got[:12]}..., the manifest says {want[:12]}...: damaged "
                f"shard, not used (run 'tinyzoo verify {zoo_dir}'; re-download or rebuild it)"
            )
        if config is not None:
            problems = check_shard_values(path, config, shards[name].get("split"))
            if problems:
                raise TinyZooError(values_error(path, problems) + "; not used")
        _verified.add(key)
    return hashed


@dataclass(frozen=True)
class VerifyReport:
    """``problems``: ``(path, message)`` pairs, empty iff the zoo verified."""

    zoo_dir: Path
    shards_checked: int
    num_models: int
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_zoo(zoo_dir: str | os.PathLike, manifest: dict | None = None,
               progress: bool = False) -> VerifyReport:
    """Re-check the zoo in ``zoo_dir`` against its manifest (or against ``manifest``).

    Checks: the manifest parses; it says complete; the config matches its fingerprint;
    the split is :mod:`zoo_data.archive.splits`'; the manifest lists exactly the config's
    shards in the manifest's archive format (:mod:`zoo_data.archive.layout`); every shard
    exists with the listed sha256; where the manifest records the sha256 of the zoo's
    label file (:mod:`zoo_data.archive.label_file`), the shards' labels give that file
    (not checked in a process whose test labels are sealed); ``data/`` holds no other
    visible file. Reads every
    shard once (none that this process verified unchanged already, see
    :func:`check_shards`); writes nothing. With ``progress``, shows the hashing on
    stderr, a shard per step (:func:`zoo_data.common.progress.progress_bar`).

    Raises:
      TinyZooError: if the manifest itself is missing or unreadable (nothing else can
        be checked then).
    """
    zoo_dir = Path(zoo_dir)
    where = str(zoo_dir / MANIFEST)
    if manifest is None:
        manifest = read_manifest(zoo_dir)
    problems: list[tuple[str, str]] = []
    config = manifest_config(manifest, where)
    if manifest.get("complete") is not True:
        problems.append((where, "zoo not marked complete (an unfinished build or download)"))
    if manifest.get("splits") != split_record(config):
        problems.append((where, "no split, or a split other than zoo_data.archive.splits'"))
    expected = ZooLayout.of(config, manifest["format_version"]).shard_names
    listed = manifest["shards"]
    for name in sorted(set(expected) - set(listed)):
        problems.append((where, f"does not list shard {name}"))
    for name in sorted(set(listed) - set(expected)):
        problems.append((where, f"lists unknown shard {name}"))
    checked = 0
    from zoo_data.common.progress import progress_bar

    bar = progress_bar(len(expected), f"verifying {zoo_dir}", "shard", enabled=progress)
    for name in expected:
        bar.update(1)
        if name not in listed:
            continue
        path = zoo_dir / DATA / name
        want = listed[name].get("sha256") if isinstance(listed[name], dict) else None
        if not path.is_file():
            problems.append((str(path), "missing shard"))
            continue
        checked += 1
        if path.is_symlink():
            problems.append((str(path), "a symbolic link, not a shard file of this zoo"))
            continue
        key = _file_key(path, want) if isinstance(want, str) else None
        if key in _verified:  # checked by this process since it last changed
            continue
        got = sha256_file(path)
        if got != want:
            problems.append((str(path), f"sha256 mismatch (manifest {str(want)[:12]}..., "
                                        f"file {got[:12]}...): corrupted shard"))
            continue
        try:
            found = check_shard_values(path, config, listed[name].get("split"))
        except TinyZooError as e:
            problems.append((str(path), str(e)))
            continue
        if found:
            problems.append((str(path), values_error(path, found).split(": ", 1)[1]))
        else:
            _verified.add(_file_key(path, want))
    bar.close()
    if LABELS_KEY in manifest and not problems and not test_labels_sealed():
        try:
            check_label_file(label_file_of_shards(zoo_dir, list(expected)), manifest,
                             f"{where}: {LABELS_KEY}: the shards' label file")
        except TinyZooError as e:
            problems.append((where, str(e).split(": ", 2)[-1]))
    data_dir = zoo_dir / DATA
    if data_dir.is_dir():
        for path in sorted(data_dir.iterdir()):
            if not path.name.startswith(".") and path.name not in set(expected):
                problems.append((str(path), "not a shard of this zoo (datasets would read it)"))
    return VerifyReport(zoo_dir, checked, config.num_models, problems)
