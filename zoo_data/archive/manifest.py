"""A zoo's ``manifest.json``: what the zoo is (config), what built it, and every shard's
checksum once it is complete.

Keys: ``format_version`` (:data:`zoo_data.archive.layout.FORMAT_VERSION`; format 1 is still
read), ``config`` and ``config_fingerprint`` (its family's config,
:func:`zoo_data.families.registry.config_from_dict`), ``builder_version``, ``versions``
(Python and the libraries whose arithmetic the weights depend on), ``num_models``,
``num_groups``, ``splits`` (:mod:`zoo_data.archive.splits`), ``shards`` (``{name:
{"group", "split", "rows", "sha256"}}`` in format 2, ``{name: {"group", "rows",
"sha256"}}`` in format 1; empty until complete), ``labels_sha256`` (a complete
format-2 zoo's since label files exist: the sha256 of its label file,
:mod:`zoo_data.archive.label_file`) and ``complete``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from zoo_data.archive.layout import (
    FORMAT_VERSION,
    FORMAT_VERSIONS,
    MANIFEST,
    MAX_GROUPS,
    MAX_MODELS,
    ZooLayout,
)
from zoo_data.archive.splits import split_record
from zoo_data.common import fields
from zoo_data.common.fields import strict_json
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import config_from_dict
from zoo_data.version import __version__, package_versions

__all__ = [
    "FORMAT_VERSION",
    "FORMAT_VERSIONS",
    "VERSIONED_PACKAGES",
    "new_manifest",
    "read_manifest",
    "parse_manifest",
    "check_manifest",
    "manifest_config",
]

#: The libraries whose versions a manifest records (the weights depend on them).
VERSIONED_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "datasets", "pyarrow")

#: Most bytes a manifest may have (the paper zoo's is about 5 KB).
MAX_MANIFEST_BYTES = 4 << 20
#: A shard's sha256, as manifests and sidecars record it.
SHA256_HEX = r"[0-9a-f]{64}"
#: A shard's file name (:func:`zoo_data.archive.layout.shard_name`).
SHARD_NAME = r"(train|validation|test)-[0-9]{5}-of-[0-9]{5}\.parquet"


def new_manifest(layout: ZooLayout, shards: dict, complete: bool, *,
                 builder_version: str | None = None, versions: dict | None = None,
                 labels_sha256: str | None = None) -> dict:
    """The manifest of ``layout``'s zoo (in its format) with ``shards`` listed (see the
    module docstring). ``builder_version`` and ``versions`` default to this process's
    (a migration keeps those of the build); ``labels_sha256`` (a complete zoo's, format
    2) is the sha256 of its label file (:mod:`zoo_data.archive.label_file`)."""
    config = layout.config
    if versions is None:
        versions = {"python": platform.python_version(),
                    **package_versions(VERSIONED_PACKAGES)}
    return {
        "format_version": layout.format_version,
        "config": config.to_dict(),
        "config_fingerprint": config.fingerprint(),
        "builder_version": __version__ if builder_version is None else builder_version,
        "versions": versions,
        "num_models": config.num_models,
        "num_groups": len(layout.groups),
        "splits": split_record(config),
        "shards": shards,
        **({} if labels_sha256 is None else {"labels_sha256": labels_sha256}),
        "complete": complete,
    }


def read_manifest(zoo_dir: str | os.PathLike) -> dict:
    """The manifest of the zoo in ``zoo_dir`` (see the module docstring).

    Raises:
      TinyZooError: one line naming ``manifest.json`` if it is missing, unreadable,
        truncated or invalid JSON, lacks a key, or has another format version.
    """
    path = Path(zoo_dir) / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TinyZooError(f"{path}: no zoo manifest (not a zoo folder?)") from None
    except OSError as e:
        raise TinyZooError(f"{path}: cannot read ({e.strerror or e})") from e
    return parse_manifest(raw, str(path))


def parse_manifest(raw: bytes, where: str) -> dict:
    """Parse and check a manifest's bytes (:func:`check_manifest`); errors name ``where``
    (a path or URL).

    Raises:
      TinyZooError: one line: more than :data:`MAX_MANIFEST_BYTES`, truncated or invalid
        JSON, a duplicate key, nesting deeper than :data:`zoo_data.common.fields.MAX_JSON_DEPTH`,
        or any field :func:`check_manifest` refuses.
    """
    return check_manifest(strict_json(raw, where, max_bytes=MAX_MANIFEST_BYTES), where)


def _check_config(name: str, value: object) -> ZooConfigLike:
    try:
        return config_from_dict(value)
    except TinyZooError as e:
        msg = str(e)
        raise TinyZooError(msg if msg.startswith("config") else f"config.{msg}") from None


def _string_map(name: str, value: object) -> dict:
    if not isinstance(value, dict) or len(value) > 64:
        raise TinyZooError(f"{name} {fields.show(value)}: need an object of at most 64 "
                           "names and version strings")
    for key, val in value.items():
        fields.text(f"{name} key", key, r"[A-Za-z0-9._+-]{1,64}", "a package name")
        fields.text(f"{name}.{key}", val, r"[^\x00-\x1f]{1,100}", "a version string")
    return value


def _shard_entry(name: str, value: object) -> dict:
    return fields.record(name, value, {
        "group": lambda n, v: fields.integer(n, v, 0, MAX_GROUPS - 1),
        "split": lambda n, v: fields.text(n, v, r"train|val|test", "train, val or test"),
        "rows": lambda n, v: fields.integer(n, v, 1, MAX_MODELS),
        "sha256": lambda n, v: fields.text(n, v, SHA256_HEX, "64 lowercase hex digits"),
    }, ("group", "rows", "sha256"))


def _shards(name: str, value: object) -> dict:
    most = 3 * MAX_GROUPS  # format 2: a file per split of each group
    if not isinstance(value, dict) or len(value) > most:
        raise TinyZooError(f"{name} {fields.show(value)}: need an object of at most "
                           f"{most} shards")
    for key, entry in value.items():
        fields.text(f"{name} key", key, SHARD_NAME, "a shard name like "
                    "'train-00000-of-00010.parquet'")
        _shard_entry(f"{name}.{key}", entry)
    return value


def _provenance(name: str, value: object) -> dict:
    def hosts(n: str, v: object) -> list:
        if not isinstance(v, list) or not 1 <= len(v) <= 16:
            raise TinyZooError(f"{n} {fields.show(v)}: need a list of 1 to 16 host names")
        for i, h in enumerate(v):
            fields.text(f"{n}[{i}]", h, r"[A-Za-z0-9.:\[\]_-]{1,255}", "a host name")
        return v

    return fields.record(name, value, {
        "source": lambda n, v: fields.text(n, v, r"[^\x00-\x1f]{1,2048}", "a URL"),
        "hosts": hosts,
        "manifest_sha256": lambda n, v: fields.text(n, v, SHA256_HEX,
                                                     "64 lowercase hex digits"),
    })


_MANIFEST_FIELDS = {
    "format_version": lambda n, v: fields.integer(n, v, min(FORMAT_VERSIONS),
                                                  max(FORMAT_VERSIONS)),
    "config": _check_config,
    "config_fingerprint": lambda n, v: fields.text(n, v, r"[0-9a-f]{16}",
                                                   "16 lowercase hex digits"),
    "builder_version": lambda n, v: fields.text(n, v, r"[0-9A-Za-z.+_-]{1,64}",
                                                "a version string"),
    "versions": _string_map,
    "num_models": lambda n, v: fields.integer(n, v, 1, MAX_MODELS),
    "num_groups": lambda n, v: fields.integer(n, v, 1, MAX_GROUPS),
    "splits": lambda n, v: fields.record(n, v, {
        "method": lambda n2, v2: fields.text(n2, v2, r"[^\x00-\x1f]{1,200}", "a text"),
        **{s: lambda n2, v2: fields.record(n2, v2, {
            k: lambda n3, v3: fields.integer(n3, v3, 0, MAX_MODELS)
            for k in ("start", "stop", "count")}) for s in ("train", "val", "test")},
    }),
    "shards": _shards,
    "labels_sha256": lambda n, v: fields.text(n, v, SHA256_HEX, "64 lowercase hex digits"),
    "complete": fields.boolean,
    "provenance": _provenance,
}
#: Keys a manifest must have (``provenance`` is written by downloads only; a manifest
#: without ``splits`` predates them, and readers say how to refresh it).
_MANIFEST_KEYS = tuple(k for k in _MANIFEST_FIELDS
                       if k not in ("provenance", "splits", "labels_sha256"))


def check_manifest(manifest: object, where: str) -> dict:
    """Check every field of a parsed manifest (types, ranges, the config's own checks
    in its family's ``config_from_dict``), that the fields agree (``num_models``
    and ``num_groups`` are the config's, each listed shard is a file of the layout of
    the manifest's format, with its group, split and row count), and that no key is
    unknown.

    Returns ``manifest`` with ``"config"`` still a JSON object; :func:`manifest_config`
    returns the checked config (:func:`zoo_data.families.registry.config_from_dict`).

    Raises:
      TinyZooError: one line naming ``where`` and the field at fault.
    """
    if not isinstance(manifest, dict):
        raise TinyZooError(f"{where}: not a zoo manifest (expected a JSON object)")
    if "format_version" in manifest and (
            type(manifest["format_version"]) is not int
            or manifest["format_version"] not in FORMAT_VERSIONS):
        raise TinyZooError(
            f"{where}: zoo format version {fields.show(manifest['format_version'])}, "
            f"this builder reads versions {' and '.join(map(str, FORMAT_VERSIONS))} "
            "(a newer tiny-rnn-zoo may read it)"
        )
    try:
        checked = fields.record("manifest", manifest, _MANIFEST_FIELDS, _MANIFEST_KEYS)
    except TinyZooError as e:
        msg = str(e).removeprefix("manifest.").removeprefix("manifest: ")
        raise TinyZooError(f"{where}: {msg}") from None
    config: ZooConfigLike = checked["config"]
    layout = ZooLayout.of(config, manifest["format_version"])
    if manifest["num_models"] != config.num_models:
        raise TinyZooError(f"{where}: num_models {manifest['num_models']} but the config "
                           f"has {config.num_models}")
    if manifest["num_groups"] != len(layout.groups):
        raise TinyZooError(f"{where}: num_groups {manifest['num_groups']} but the config "
                           f"makes {len(layout.groups)} training groups")
    files = {f.name: f for f in layout.files}
    for name, entry in manifest["shards"].items():
        file = files.get(name)
        if file is None:
            raise TinyZooError(f"{where}: lists unknown shard {name} (not a file of a "
                               f"format-{layout.format_version} zoo of this config)")
        if (entry["group"], entry.get("split"), entry["rows"]) != (
                file.group, file.split, file.rows):
            split = f", split {entry['split']}" if "split" in entry else ""
            want = f" of split {file.split}" if file.split is not None else ""
            raise TinyZooError(f"{where}: shards.{name}: group {entry['group']}{split}, "
                               f"rows {entry['rows']}; the config's group {file.group} "
                               f"has {file.rows} rows{want} in this file")
    return manifest


def manifest_config(manifest: dict, where: str) -> ZooConfigLike:
    """The config (of its family's class) of a manifest :func:`check_manifest` passed, checked
    against its fingerprint."""
    try:
        config = config_from_dict(manifest["config"])
    except TinyZooError as e:
        raise TinyZooError(f"{where}: config: {e}") from None
    if config.fingerprint() != manifest["config_fingerprint"]:
        raise TinyZooError(f"{where}: config does not match its fingerprint (edited?)")
    return config
