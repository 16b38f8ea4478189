"""A zoo's ``manifest.json``: what the zoo is (config), what built it, and every shard's
checksum once it is complete.

Keys: ``format_version``, ``config`` and ``config_fingerprint``
(:class:`zoo_data.presets.ZooConfig`), ``builder_version``, ``versions`` (Python and the
libraries whose arithmetic the weights depend on), ``num_models``, ``num_groups``,
``splits`` (:mod:`zoo_data.splits`), ``shards`` (``{name: {"group", "rows",
"sha256"}}``, empty until complete) and ``complete``.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from zoo_data.errors import TinyZooError
from zoo_data.layout import MANIFEST, ZooLayout
from zoo_data.presets import ZooConfig
from zoo_data.splits import split_record
from zoo_data.version import __version__, package_versions

__all__ = [
    "FORMAT_VERSION",
    "VERSIONED_PACKAGES",
    "new_manifest",
    "read_manifest",
    "parse_manifest",
    "manifest_config",
]

FORMAT_VERSION = 1

#: The libraries whose versions a manifest records (the weights depend on them).
VERSIONED_PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "datasets", "pyarrow")

_MANIFEST_KEYS = ("format_version", "config", "config_fingerprint", "shards", "complete")


def new_manifest(layout: ZooLayout, shards: dict, complete: bool) -> dict:
    """The manifest of ``layout``'s zoo with ``shards`` listed (see the module docstring)."""
    config = layout.config
    return {
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "config_fingerprint": config.fingerprint(),
        "builder_version": __version__,
        "versions": {"python": platform.python_version(),
                     **package_versions(VERSIONED_PACKAGES)},
        "num_models": config.num_models,
        "num_groups": len(layout.groups),
        "splits": split_record(config),
        "shards": shards,
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
    """Parse and check a manifest's bytes; errors name ``where`` (a path or URL).

    Raises:
      TinyZooError: if ``raw`` is truncated or invalid JSON, not an object, lacks a key
        of :data:`_MANIFEST_KEYS`, or has another format version.
    """
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise TinyZooError(f"{where}: truncated or invalid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise TinyZooError(f"{where}: not a zoo manifest (expected a JSON object)")
    missing = [k for k in _MANIFEST_KEYS if k not in manifest]
    if missing:
        raise TinyZooError(f"{where}: not a zoo manifest (missing {', '.join(missing)})")
    if manifest["format_version"] != FORMAT_VERSION:
        raise TinyZooError(
            f"{where}: zoo format version {manifest['format_version']!r}, "
            f"this builder reads version {FORMAT_VERSION}"
        )
    if not isinstance(manifest["config"], dict) or not isinstance(manifest["shards"], dict):
        raise TinyZooError(f"{where}: not a zoo manifest (config or shards is not an object)")
    return manifest


def manifest_config(manifest: dict, where: str) -> ZooConfig:
    """The :class:`ZooConfig` of a parsed manifest, checked against its fingerprint."""
    try:
        config = ZooConfig.from_dict(manifest["config"])
    except (TypeError, KeyError, ValueError) as e:
        raise TinyZooError(f"{where}: invalid config ({e})") from None
    if config.fingerprint() != manifest["config_fingerprint"]:
        raise TinyZooError(f"{where}: config does not match its fingerprint (edited?)")
    return config
