"""Download a published zoo, resumably, verifying every shard.

:func:`download_zoo` fetches ``manifest.json`` from a remote (:mod:`zoo_data.remote.http`)
first and checks it (valid JSON, complete, config matching its fingerprint, every shard
of the layout of its archive format with a sha256; format 1 and 2 zoos both download),
then every shard that is not already present and correct. A shard is downloaded to the
hidden ``data/.NAME.part`` (resumed with an HTTP ``Range`` request after an
interruption), hashed, and moved into place only if its sha256 equals the manifest's.
The manifest is written last: until then the local folder's manifest says
``"complete": false``, so a failed or interrupted download never leaves a zoo marked
complete, and running the same command again resumes it.

The local manifest is the published one plus a ``provenance`` record: the source, every
host that served a byte (a redirect to another host is also reported through ``log``
as it happens) and the sha256 of the published manifest's bytes, which stays the zoo's
identity (:attr:`zoo_data.zoo.Zoo.manifest_sha256`). Every body is capped: the manifest
at :data:`~zoo_data.archive.manifest.MAX_MANIFEST_BYTES`, a shard at :func:`max_shard_bytes`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from zoo_data.archive.card import dataset_card
from zoo_data.archive.folder import (
    check_no_stray_files,
    complete_files,
    prepare_zoo_dir,
    write_sidecar,
)
from zoo_data.archive.layout import CARD, DATA, MANIFEST, ShardFile, ZooLayout
from zoo_data.archive.manifest import MAX_MANIFEST_BYTES, manifest_config, parse_manifest
from zoo_data.archive.splits import split_record
from zoo_data.archive.verify import verify_zoo
from zoo_data.common.atomic import atomic_write, json_bytes, sha256_file
from zoo_data.common.progress import progress_bar
from zoo_data.errors import TinyZooError
from zoo_data.remote.http import open_remote

__all__ = ["DownloadReport", "download_zoo", "max_shard_bytes", "published_manifest"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_CARD_BYTES = 1 << 20


def max_shard_bytes(layout: ZooLayout, file: ShardFile) -> int:
    """The most bytes shard ``file`` may have: ``2 * rows * model_nbytes + 16 MiB``
    (float32 weights stored at most twice over, plus metadata columns and Parquet
    overhead). A body past it is refused."""
    from zoo_data.archive.schema import model_nbytes

    return 2 * file.rows * model_nbytes(layout.config) + (16 << 20)


def published_manifest(manifest: dict) -> dict:
    """``manifest`` without the ``provenance`` a download adds: the manifest as
    published."""
    return {k: v for k, v in manifest.items() if k != "provenance"}


@dataclass(frozen=True)
class DownloadReport:
    zoo_dir: Path
    shards_downloaded: int
    shards_present: int
    bytes_downloaded: int


def _check_remote_manifest(manifest: dict, where: str) -> ZooLayout:
    """The layout of a remote manifest's zoo (in its archive format), after checking it
    describes a complete zoo."""
    config = manifest_config(manifest, where)
    if manifest.get("complete") is not True:
        raise TinyZooError(f"{where}: the published zoo is not complete")
    if manifest.get("splits") != split_record(config):
        raise TinyZooError(f"{where}: its split differs from zoo_data.archive.splits'")
    layout = ZooLayout.of(config, manifest["format_version"])
    expected = layout.shard_names
    shards = manifest["shards"]
    if sorted(shards) != sorted(expected):
        extra = sorted(set(shards) - set(expected))
        missing = sorted(set(expected) - set(shards))
        what = f"lists unknown shard {extra[0]}" if extra else f"lacks shard {missing[0]}"
        raise TinyZooError(f"{where}: {what}")
    for name in expected:
        sha = shards[name].get("sha256") if isinstance(shards[name], dict) else None
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise TinyZooError(f"{where}: shard {name} has no valid sha256")
    return layout


def download_zoo(
    source: str, out: str | os.PathLike, progress: bool = True, log=None
) -> DownloadReport:
    """Download the zoo at ``source`` into folder ``out`` (see the module docstring);
    ``log`` receives one-line notices (a redirect to another host).

    Resumes a partial download in ``out``; a shard already present with the manifest's
    sha256 is kept. Refuses a folder holding another config's zoo, a complete zoo with
    other shard checksums (another build of the same config), or a non-zoo folder.

    Raises:
      TinyZooError: one line naming the URL or file: unreachable source, HTTP error,
        missing shard, truncated manifest, checksum mismatch, lost connection.
    """
    remote = open_remote(source, on_notice=log)
    manifest_url = remote.url(MANIFEST)
    raw = remote.read_bytes(MANIFEST, limit=MAX_MANIFEST_BYTES)
    manifest = parse_manifest(raw, manifest_url)
    if "provenance" in manifest:
        raise TinyZooError(f"{manifest_url}: field provenance: a published manifest must "
                           "not have one (a download records its own)")
    layout = _check_remote_manifest(manifest, manifest_url)
    raw_sha256 = hashlib.sha256(raw).hexdigest()
    zoo_dir = Path(out)
    local_manifest = zoo_dir / MANIFEST
    if local_manifest.is_file():
        try:
            local = parse_manifest(local_manifest.read_bytes(), str(local_manifest))
        except TinyZooError:
            local = None
        if (local is not None and published_manifest(local) == manifest
                and local.get("provenance", {}).get("manifest_sha256", raw_sha256)
                == raw_sha256 and not verify_zoo(zoo_dir).problems):
            return DownloadReport(zoo_dir, 0, len(manifest["shards"]), 0)
    zoo_dir = prepare_zoo_dir(zoo_dir, layout)  # refuses other configs and non-zoo folders
    local = parse_manifest(local_manifest.read_bytes(), str(local_manifest))
    if local.get("complete") is True:
        theirs = {k: v.get("sha256") for k, v in manifest["shards"].items()}
        ours = {k: v.get("sha256") for k, v in local["shards"].items()}
        if ours != theirs:
            raise TinyZooError(
                f"{zoo_dir}: holds another complete build of this config (shard checksums "
                "differ from the source's); refusing to overwrite it"
            )
        # the same zoo, but something failed verification: mark it incomplete first
        incomplete = dict(local, complete=False)
        atomic_write(local_manifest, json_bytes(incomplete))

    data_dir = zoo_dir / DATA
    present = complete_files(zoo_dir, layout)
    names = layout.shard_names
    todo = []
    for file in layout.files:
        want = manifest["shards"][file.name]["sha256"]
        if present.get(file.name) == want:
            continue
        path = data_dir / file.name
        if path.is_file() and sha256_file(path) == want:  # e.g. a lost sidecar
            write_sidecar(zoo_dir, layout, file, want)
            continue
        todo.append((file, want))

    bar = progress_bar(None, f"downloading {len(todo)} shards", "B", enabled=progress)
    downloaded = 0

    def on_bytes(n: int) -> None:
        nonlocal downloaded
        downloaded += n
        bar.update(n)

    with bar:
        for file, want in todo:
            name = file.name
            part = data_dir / f".{name}.part"
            remote.fetch(f"{DATA}/{name}", part, on_bytes,
                         limit=max_shard_bytes(layout, file))
            got = sha256_file(part)
            if got != want:
                with contextlib.suppress(OSError):
                    part.unlink()
                raise TinyZooError(
                    f"{remote.url(DATA + '/' + name)}: sha256 mismatch (manifest "
                    f"{want[:12]}..., downloaded {got[:12]}...): corrupted shard, not kept"
                )
            with contextlib.suppress(FileNotFoundError):
                (data_dir / file.sidecar).unlink()
            os.replace(part, data_dir / name)
            write_sidecar(zoo_dir, layout, file, want)

    card = remote.read_bytes(CARD, missing_ok=True, limit=_MAX_CARD_BYTES)
    atomic_write(zoo_dir / CARD, card if card is not None
                 else dataset_card(layout.config, layout.format_version).encode())
    check_no_stray_files(zoo_dir, layout)  # every shard was hashed above
    provenance = {"source": source, "hosts": remote.hosts[:16],
                  "manifest_sha256": raw_sha256}
    # this marks the zoo complete
    atomic_write(local_manifest, json_bytes(dict(manifest, provenance=provenance)))
    return DownloadReport(zoo_dir, len(todo), len(names) - len(todo), downloaded)
