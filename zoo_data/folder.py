"""A zoo folder being filled: prepared for one config, shards marked complete one by one
by their sidecars, then finalised by the manifest.

- ``data/.train-*.json``, a shard's sidecar ``{"group", "model_ids", "rows", "sha256",
  "config_fingerprint"}``, is written after the shard's Parquet file. A shard is
  *complete* iff both files exist and the Parquet file's sha256 equals the sidecar's; a
  Parquet file without a valid sidecar is an interrupted write, ignored and overwritten.
- ``manifest.json`` says ``"complete": false`` until :func:`finalize` lists every
  shard's checksum with ``"complete": true``.

Every file is written atomically (:mod:`zoo_data.atomic`), and a folder never mixes two
configs: :func:`prepare_zoo_dir` refuses a folder holding another config's manifest or
shards, or anything that is not a zoo, before writing anything. The builder
(:mod:`zoo_builder.shards`) and the downloader (:mod:`zoo_data.download`) both fill
folders through these functions.
"""

from __future__ import annotations

import os
from pathlib import Path

from zoo_data.atomic import atomic_write, json_bytes, read_json_object, sha256_file
from zoo_data.card import dataset_card
from zoo_data.errors import TinyZooError
from zoo_data.layout import CARD, DATA, MANIFEST, ZooLayout
from zoo_data.manifest import new_manifest, read_manifest
from zoo_data.presets import ZooConfig

__all__ = [
    "prepare_zoo_dir",
    "write_sidecar",
    "complete_shard",
    "complete_shards",
    "check_no_stray_files",
    "finalize",
]


def _foreign(where: Path, stored: dict | None, fingerprint: str, config: ZooConfig):
    preset = (stored or {}).get("preset", "?")
    return TinyZooError(
        f"{where}: holds a zoo of another config (preset {preset}, fingerprint "
        f"{fingerprint}; wanted preset {config.preset}, fingerprint {config.fingerprint()}); "
        "refusing to mix or overwrite"
    )


def _check_writable(path: Path) -> None:
    """``path`` is a writable folder, or can be created as one."""
    if path.exists():
        if not path.is_dir():
            raise TinyZooError(f"{path}: exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise TinyZooError(f"{path}: directory is not writable")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise TinyZooError(f"{path}: cannot create it ({parent} is not a directory)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TinyZooError(f"{path}: cannot create it ({parent} is not writable)")


def prepare_zoo_dir(path: str | os.PathLike, layout: ZooLayout) -> Path:
    """Make ``path`` ready to receive shards of ``layout``'s zoo; returns it as a Path.

    Creates ``path`` and ``path/data`` if needed, then writes the manifest
    (``"complete": false``) and the dataset card if they are absent. Nothing is written
    unless every check passes.

    Raises:
      TinyZooError: if ``path`` is a file or not writable; if it holds a manifest or shard
        sidecars of another config; if it is a non-empty folder that is not a zoo.
    """
    zoo_dir = Path(path)
    config = layout.config
    _check_writable(zoo_dir)
    fingerprint = config.fingerprint()
    manifest_path, data_dir = zoo_dir / MANIFEST, zoo_dir / DATA
    has_manifest = manifest_path.exists()
    if has_manifest:
        manifest = read_manifest(zoo_dir)
        if manifest["config_fingerprint"] != fingerprint:
            raise _foreign(zoo_dir, manifest["config"], manifest["config_fingerprint"], config)
    if data_dir.exists() and not data_dir.is_dir():
        raise TinyZooError(f"{data_dir}: exists and is not a directory")
    if data_dir.is_dir():
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise TinyZooError(f"{data_dir}: directory is not writable")
        for sidecar in sorted(data_dir.glob(".train-*.json")):
            meta = read_json_object(sidecar)  # an unreadable sidecar is an interrupted write
            if meta is not None and meta.get("config_fingerprint") != fingerprint:
                stored = meta.get("config_fingerprint", "?")
                raise _foreign(sidecar, None, stored, config)
    elif not has_manifest and zoo_dir.is_dir() and any(zoo_dir.iterdir()):
        raise TinyZooError(
            f"{zoo_dir}: non-empty directory that is not a zoo (no {MANIFEST} or {DATA}/); "
            "refusing to write into it"
        )

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TinyZooError(f"{data_dir}: cannot create ({e.strerror or e})") from e
    if not has_manifest:
        atomic_write(manifest_path, json_bytes(new_manifest(layout, {}, False)))
    if not (zoo_dir / CARD).exists():
        atomic_write(zoo_dir / CARD, dataset_card(config).encode())
    return zoo_dir


def write_sidecar(zoo_dir: str | os.PathLike, layout: ZooLayout, group_index: int,
                  sha: str) -> None:
    """Write the sidecar that marks group ``group_index``'s shard (already in place, with
    sha256 ``sha``) complete."""
    group = layout.groups[group_index]
    sidecar = {
        "group": group_index,
        "model_ids": list(group.model_ids),
        "rows": layout.rows(group_index),
        "sha256": sha,
        "config_fingerprint": layout.config.fingerprint(),
    }
    atomic_write(Path(zoo_dir) / DATA / layout.sidecar_name(group_index), json_bytes(sidecar))


def complete_shard(zoo_dir: str | os.PathLike, layout: ZooLayout,
                   group_index: int) -> str | None:
    """The sha256 of group ``group_index``'s shard in ``zoo_dir`` if it is complete, else
    ``None``. A shard is complete iff its Parquet file and sidecar both exist, the
    sidecar names this config, the group and the group's model ids, and the Parquet
    file's sha256 (read and hashed here) equals the sidecar's."""
    data_dir = Path(zoo_dir) / DATA
    group = layout.groups[group_index]
    parquet_path = data_dir / layout.shard_name(group.index)
    meta = read_json_object(data_dir / layout.sidecar_name(group.index))
    if meta is None or not parquet_path.is_file():
        return None
    if (
        meta.get("config_fingerprint") != layout.config.fingerprint()
        or meta.get("group") != group.index
        or tuple(meta.get("model_ids") or ()) != group.model_ids
        or meta.get("rows") != layout.rows(group.index)
    ):
        return None
    try:
        sha = sha256_file(parquet_path)
    except OSError:
        return None
    return sha if sha == meta.get("sha256") else None


def complete_shards(zoo_dir: str | os.PathLike, layout: ZooLayout) -> dict[int, str]:
    """``{group index: sha256}`` of the complete shards (:func:`complete_shard`) of
    ``layout``'s zoo in ``zoo_dir``."""
    done: dict[int, str] = {}
    for group in layout.groups:
        sha = complete_shard(zoo_dir, layout, group.index)
        if sha is not None:
            done[group.index] = sha
    return done


def check_no_stray_files(zoo_dir: str | os.PathLike, layout: ZooLayout) -> None:
    """Raise :class:`TinyZooError` naming the first visible file in ``data/`` that is not
    one of the zoo's shards (``datasets`` would try to read it as Parquet)."""
    expected = set(layout.shard_names)
    for path in sorted((Path(zoo_dir) / DATA).iterdir()):
        if not path.name.startswith(".") and path.name not in expected:
            raise TinyZooError(f"{path}: not a shard of this zoo; remove it")


def finalize(zoo_dir: str | os.PathLike, layout: ZooLayout) -> None:
    """Mark the zoo complete: rewrite ``manifest.json`` with every shard's ``group``,
    ``rows`` and ``sha256`` and ``"complete": true`` (and write the card if absent).

    Raises:
      TinyZooError: if a training group has no complete shard, or ``data/`` holds a
        visible file other than the zoo's shards (``datasets`` would read it as Parquet).
    """
    zoo_dir = Path(zoo_dir)
    groups = layout.groups
    done = complete_shards(zoo_dir, layout)
    missing = [g.index for g in groups if g.index not in done]
    if missing:
        raise TinyZooError(
            f"{zoo_dir}: {len(missing)} of {len(groups)} training groups have no complete "
            f"shard (first: {layout.shard_name(missing[0])}); build them before "
            "finalizing"
        )
    check_no_stray_files(zoo_dir, layout)
    shards = {
        layout.shard_name(g.index): {
            "group": g.index, "rows": layout.rows(g.index), "sha256": done[g.index]
        }
        for g in groups
    }
    atomic_write(zoo_dir / MANIFEST, json_bytes(new_manifest(layout, shards, True)))
    if not (zoo_dir / CARD).exists():
        atomic_write(zoo_dir / CARD, dataset_card(layout.config).encode())
