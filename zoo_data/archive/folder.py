"""A zoo folder being filled: prepared for one config, shards marked complete one by one
by their sidecars, then finalised by the manifest.

- ``data/.{stem}.json``, a shard's sidecar ``{"group", "split", "model_ids", "rows",
  "sha256", "config_fingerprint"}`` (format 1: no ``"split"``), is written after the
  shard's Parquet file. A shard is *complete* iff both files exist, the sidecar
  describes this file of this config (:class:`zoo_data.archive.layout.ShardFile`) and the
  Parquet file's sha256 equals the sidecar's; a Parquet file without a valid sidecar is
  an interrupted write, ignored and overwritten. A training group is complete iff every
  one of its files is (:func:`complete_group`); a group is written, and rebuilt after a
  crash, as one unit (:func:`zoo_data.archive.shard_files.write_group`).
- ``manifest.json`` says ``"complete": false`` until :func:`finalize` lists every
  shard's checksum with ``"complete": true``.

Every file is written atomically (:mod:`zoo_data.common.atomic`), and a folder never mixes two
configs: :func:`prepare_zoo_dir` refuses a folder holding another config's manifest or
shards, or anything that is not a zoo, before writing anything. The builder
(:mod:`zoo_builder.shards`) and the downloader (:mod:`zoo_data.remote.download`) both fill
folders through these functions.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from zoo_data.archive.card import dataset_card
from zoo_data.archive.layout import CARD, DATA, MANIFEST, ShardFile, ZooLayout
from zoo_data.archive.manifest import new_manifest, read_manifest
from zoo_data.common.atomic import atomic_write, json_bytes, read_json_object, sha256_file
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike

__all__ = [
    "prepare_zoo_dir",
    "is_sidecar",
    "write_sidecar",
    "complete_file",
    "complete_files",
    "complete_group",
    "complete_shards",
    "check_no_stray_files",
    "shards_table",
    "finalize",
]

_SIDECAR = re.compile(r"\.(train|validation|test)-[0-9]{5}-of-[0-9]{5}\.json")


def is_sidecar(name: str) -> bool:
    """Whether ``name`` is a shard sidecar's name (of either format)."""
    return _SIDECAR.fullmatch(name) is not None


def _foreign(where: Path, stored: dict | None, fingerprint: str, config: ZooConfigLike):
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
        sidecars of another config, or a zoo of another archive format (``tinyzoo
        migrate`` converts a format-1 zoo); if it is a non-empty folder that is not a zoo.
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
        if manifest["format_version"] < layout.format_version:
            raise TinyZooError(
                f"{manifest_path}: a format-{manifest['format_version']} zoo; run 'tinyzoo "
                f"migrate {zoo_dir}' to convert it to format {layout.format_version} "
                "before writing into it"
            )
        if manifest["format_version"] != layout.format_version:
            raise TinyZooError(
                f"{manifest_path}: a format-{manifest['format_version']} zoo; refusing to "
                f"write format-{layout.format_version} files into it (use another folder)"
            )
    if data_dir.exists() and not data_dir.is_dir():
        raise TinyZooError(f"{data_dir}: exists and is not a directory")
    if data_dir.is_dir():
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise TinyZooError(f"{data_dir}: directory is not writable")
        for sidecar in sorted(p for p in data_dir.glob(".*.json") if is_sidecar(p.name)):
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
        atomic_write(zoo_dir / CARD, dataset_card(config, layout.format_version).encode())
    return zoo_dir


def write_sidecar(zoo_dir: str | os.PathLike, layout: ZooLayout, file: ShardFile,
                  sha: str) -> None:
    """Write the sidecar that marks shard ``file`` of ``layout`` (already in place, with
    sha256 ``sha``) complete."""
    sidecar: dict = {"group": file.group}
    if file.split is not None:
        sidecar["split"] = file.split
    sidecar.update({
        "model_ids": list(file.model_ids),
        "rows": file.rows,
        "sha256": sha,
        "config_fingerprint": layout.config.fingerprint(),
    })
    atomic_write(Path(zoo_dir) / DATA / file.sidecar, json_bytes(sidecar))


def complete_file(zoo_dir: str | os.PathLike, layout: ZooLayout,
                  file: ShardFile) -> str | None:
    """The sha256 of shard ``file`` in ``zoo_dir`` if it is complete, else ``None``. It
    is complete iff its Parquet file and sidecar both exist, the sidecar names this
    config, the file's group, split, model ids and rows, and the Parquet file's sha256
    (read and hashed here) equals the sidecar's."""
    data_dir = Path(zoo_dir) / DATA
    parquet_path = data_dir / file.name
    meta = read_json_object(data_dir / file.sidecar)
    if meta is None or not parquet_path.is_file():
        return None
    if (
        meta.get("config_fingerprint") != layout.config.fingerprint()
        or meta.get("group") != file.group
        or meta.get("split") != file.split
        or tuple(meta.get("model_ids") or ()) != file.model_ids
        or meta.get("rows") != file.rows
    ):
        return None
    try:
        sha = sha256_file(parquet_path)
    except OSError:
        return None
    return sha if sha == meta.get("sha256") else None


def complete_files(zoo_dir: str | os.PathLike, layout: ZooLayout) -> dict[str, str]:
    """``{file name: sha256}`` of the complete shards (:func:`complete_file`) of
    ``layout``'s zoo in ``zoo_dir``."""
    done: dict[str, str] = {}
    for file in layout.files:
        sha = complete_file(zoo_dir, layout, file)
        if sha is not None:
            done[file.name] = sha
    return done


def complete_group(zoo_dir: str | os.PathLike, layout: ZooLayout,
                   group_index: int) -> dict[str, str] | None:
    """``{file name: sha256}`` of training group ``group_index``'s files if every one
    of them is complete (:func:`complete_file`), else ``None``."""
    done: dict[str, str] = {}
    for file in layout.group_files(group_index):
        sha = complete_file(zoo_dir, layout, file)
        if sha is None:
            return None
        done[file.name] = sha
    return done


def complete_shards(zoo_dir: str | os.PathLike,
                    layout: ZooLayout) -> dict[int, dict[str, str]]:
    """``{group index: {file name: sha256}}`` of the complete training groups
    (:func:`complete_group`) of ``layout``'s zoo in ``zoo_dir``."""
    done: dict[int, dict[str, str]] = {}
    for group in layout.groups:
        shas = complete_group(zoo_dir, layout, group.index)
        if shas is not None:
            done[group.index] = shas
    return done


def check_no_stray_files(zoo_dir: str | os.PathLike, layout: ZooLayout) -> None:
    """Raise :class:`TinyZooError` naming the first visible file in ``data/`` that is not
    one of the zoo's shards (``datasets`` would try to read it as Parquet)."""
    expected = set(layout.shard_names)
    for path in sorted((Path(zoo_dir) / DATA).iterdir()):
        if not path.name.startswith(".") and path.name not in expected:
            raise TinyZooError(f"{path}: not a shard of this zoo; remove it")


def shards_table(layout: ZooLayout, shas: dict[str, str]) -> dict:
    """The manifest's ``shards`` of ``layout``'s zoo, whose file ``name`` has sha256
    ``shas[name]``: ``{name: {"group", "split", "rows", "sha256"}}`` in file order
    (format 1: no ``"split"``)."""
    table = {}
    for file in layout.files:
        entry: dict = {"group": file.group}
        if file.split is not None:
            entry["split"] = file.split
        entry.update({"rows": file.rows, "sha256": shas[file.name]})
        table[file.name] = entry
    return table


def labels_sha256(zoo_dir: Path, layout: ZooLayout) -> str | None:
    """The sha256 of the label file of the complete zoo in ``zoo_dir``
    (:mod:`zoo_data.archive.label_file`); ``None`` for format 1, whose manifests never
    recorded one."""
    if layout.format_version < 2:
        return None
    from zoo_data.archive.label_file import label_file_of_shards

    return hashlib.sha256(label_file_of_shards(zoo_dir, layout.shard_names)).hexdigest()


def finalize(zoo_dir: str | os.PathLike, layout: ZooLayout) -> None:
    """Mark the zoo complete: rewrite ``manifest.json`` with every shard's ``group``,
    ``split``, ``rows`` and ``sha256`` (:func:`shards_table`), the sha256 of its label
    file (:func:`labels_sha256`) and ``"complete": true`` (and write the card if
    absent).

    Raises:
      TinyZooError: if a training group has an incomplete file, or ``data/`` holds a
        visible file other than the zoo's shards (``datasets`` would read it as Parquet).
    """
    zoo_dir = Path(zoo_dir)
    groups = layout.groups
    done = complete_shards(zoo_dir, layout)
    missing = [g.index for g in groups if g.index not in done]
    if missing:
        first = next(f.name for f in layout.group_files(missing[0])
                     if complete_file(zoo_dir, layout, f) is None)
        raise TinyZooError(
            f"{zoo_dir}: {len(missing)} of {len(groups)} training groups have no complete "
            f"shards (first: {first}); build them before finalizing"
        )
    check_no_stray_files(zoo_dir, layout)
    shas = {name: sha for files in done.values() for name, sha in files.items()}
    atomic_write(zoo_dir / MANIFEST,
                 json_bytes(new_manifest(layout, shards_table(layout, shas), True,
                                         labels_sha256=labels_sha256(zoo_dir, layout))))
    if not (zoo_dir / CARD).exists():
        atomic_write(zoo_dir / CARD,
                     dataset_card(layout.config, layout.format_version).encode())
