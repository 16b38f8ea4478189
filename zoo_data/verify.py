"""Re-check a local zoo against its manifest: a local check that reads every shard once
and writes nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from zoo_data.atomic import sha256_file
from zoo_data.layout import DATA, MANIFEST, ZooLayout
from zoo_data.manifest import manifest_config, read_manifest
from zoo_data.splits import split_record

__all__ = ["VerifyReport", "verify_zoo"]


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


def verify_zoo(zoo_dir: str | os.PathLike, manifest: dict | None = None) -> VerifyReport:
    """Re-check the zoo in ``zoo_dir`` against its manifest (or against ``manifest``).

    Checks: the manifest parses; it says complete; the config matches its fingerprint;
    the split is :mod:`zoo_data.splits`'; the manifest lists exactly the config's
    shards; every shard exists with the listed sha256; ``data/`` holds no other
    visible file. Reads every shard once; writes nothing.

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
        problems.append((where, "no split, or a split other than zoo_data.splits'"))
    expected = ZooLayout.of(config).shard_names
    listed = manifest["shards"]
    for name in sorted(set(expected) - set(listed)):
        problems.append((where, f"does not list shard {name}"))
    for name in sorted(set(listed) - set(expected)):
        problems.append((where, f"lists unknown shard {name}"))
    checked = 0
    for name in expected:
        if name not in listed:
            continue
        path = zoo_dir / DATA / name
        want = listed[name].get("sha256") if isinstance(listed[name], dict) else None
        if not path.is_file():
            problems.append((str(path), "missing shard"))
            continue
        got = sha256_file(path)
        checked += 1
        if got != want:
            problems.append((str(path), f"sha256 mismatch (manifest {str(want)[:12]}..., "
                                        f"file {got[:12]}...): corrupted shard"))
    data_dir = zoo_dir / DATA
    if data_dir.is_dir():
        for path in sorted(data_dir.iterdir()):
            if not path.name.startswith(".") and path.name not in set(expected):
                problems.append((str(path), "not a shard of this zoo (datasets would read it)"))
    return VerifyReport(zoo_dir, checked, config.num_models, problems)
