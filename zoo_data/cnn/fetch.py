"""Where the Small CNN Zoo's published files come from: a local folder, a local
``<dataset>.tar.xz``, or an ``https://`` URL of the archive (or of the folder that
holds the archives, ``.../smallcnnzoo-dataset``).

Downloads go to a partial file in the import's staging folder and resume with an HTTP
``Range`` request when run again (:class:`zoo_data.remote.http.HttpRemote`, the transport of
``tinyzoo download``, with its stall timeout); an archive is accepted only once it is
complete and, when a sha256 is given, matches it, then renamed. Only the three files of
the dataset (:mod:`zoo_data.cnn.source`) are extracted from it, each to a partial name
first, so no half-written file is ever taken for a whole one.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

from zoo_data.cnn.source import LAYOUT, METRICS, WEIGHTS
from zoo_data.common.atomic import atomic_write, sha256_file
from zoo_data.errors import TinyZooError
from zoo_data.remote.http import HttpRemote

__all__ = ["PUBLISHED_URL", "MAX_ARCHIVE_BYTES", "archive_url", "fetch_file",
           "resolve_source"]

#: Where google-research publishes the archives (``<dataset>.tar.xz``).
PUBLISHED_URL = "https://storage.googleapis.com/gresearch/smallcnnzoo-dataset"
#: The most bytes an archive may have (the largest, CIFAR-10's, is a few GB).
MAX_ARCHIVE_BYTES = 32 << 30
_MEMBERS = (WEIGHTS, METRICS, LAYOUT)


def archive_url(source: str, dataset: str) -> str:
    """The archive's URL: ``source`` itself if it names a ``.tar.xz``, else
    ``source/<dataset>.tar.xz``."""
    if source.endswith(".tar.xz"):
        return source
    return f"{source.rstrip('/')}/{dataset}.tar.xz"


def fetch_file(url: str, target: Path, sha256: str | None, limit: int,
               on_bytes=None) -> Path:
    """Download ``url`` to ``target`` (resuming ``target.part``), check ``sha256`` when
    given, then rename. A ``target`` already fetched from the same ``url`` (recorded in
    ``target.url``) is re-checked, not re-fetched; one from another URL is replaced.

    Raises:
      TinyZooError: one line: the transfer failed (run again to resume) or the file's
        sha256 differs (the partial file is removed, so the next run starts afresh).
    """
    if not url.startswith(("https://", "http://")):
        raise TinyZooError(f"{url}: need an https:// URL")
    part = target.with_name(target.name + ".part")
    origin = target.with_name(target.name + ".url")  # what target and part were fetched from
    if not origin.is_file() or origin.read_text() != url:
        for stale in (target, part):
            stale.unlink(missing_ok=True)
        atomic_write(origin, url.encode())
    if not target.exists():
        base, _, name = url.rpartition("/")
        HttpRemote(base).fetch(name, part, on_bytes, limit=limit)
        if sha256 is not None:
            got = sha256_file(part)
            if got != sha256:
                part.unlink()
                raise TinyZooError(f"{url}: sha256 {got}, expected {sha256}; not used")
        os.replace(part, target)
    elif sha256 is not None and sha256_file(target) != sha256:
        raise TinyZooError(f"{target}: sha256 differs from the expected {sha256}; remove it "
                           "and run again")
    return target


def _extract(archive: Path, folder: Path) -> Path:
    """The three files of ``archive`` (wherever they sit in it) into ``folder``. Files
    extracted before are reused only if they came from this very archive (same path,
    size and modification time, recorded in ``folder/.archive.json``); otherwise they
    are replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    info = archive.resolve().stat()
    stamp = json.dumps({"archive": str(archive.resolve()), "size": info.st_size,
                        "mtime_ns": info.st_mtime_ns}, sort_keys=True).encode()
    stamp_path = folder / ".archive.json"
    if stamp_path.is_file() and stamp_path.read_bytes() == stamp and all(
            (folder / name).is_file() for name in _MEMBERS):
        return folder
    stamp_path.unlink(missing_ok=True)
    for name in _MEMBERS:
        (folder / name).unlink(missing_ok=True)
    found = set()
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if name not in _MEMBERS or not member.isfile():
                    continue
                if name in found:
                    raise TinyZooError(f"{archive}: holds two files named {name}")
                source = tar.extractfile(member)
                part = folder / f"{name}.part"
                with source, open(part, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                os.replace(part, folder / name)
                found.add(name)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise TinyZooError(f"{archive}: not a complete tar archive ({e})") from None
    missing = [n for n in _MEMBERS if n not in found]
    if missing:
        raise TinyZooError(f"{archive}: has no {missing[0]} (a Small CNN Zoo archive "
                           f"holds {', '.join(_MEMBERS)})")
    atomic_write(stamp_path, stamp)
    return folder


def resolve_source(source: str, dataset: str, staging: Path, sha256: str | None,
                   on_bytes=None) -> Path:
    """The folder holding ``dataset``'s three published files, from ``source``: a
    folder with them (or with a ``<dataset>/`` folder or ``<dataset>.tar.xz`` in it), a
    ``.tar.xz`` file, or an ``http(s)://`` URL (:func:`archive_url`). Archives are
    extracted into ``staging``; ``sha256`` checks the archive (refused for a folder of
    files, which has no archive to check).

    Raises:
      TinyZooError: one line naming the source.
    """
    if source.startswith(("http://", "https://")):
        staging.mkdir(parents=True, exist_ok=True)
        archive = fetch_file(archive_url(source, dataset), staging / f"{dataset}.tar.xz",
                             sha256, MAX_ARCHIVE_BYTES, on_bytes)
        return _extract(archive, staging / dataset)
    path = Path(source)
    if path.is_dir():
        for folder in (path, path / dataset):
            if all((folder / name).is_file() for name in _MEMBERS):
                if sha256 is not None:
                    raise TinyZooError(f"{source}: --sha256 checks a .tar.xz archive; this "
                                       "is a folder of extracted files")
                return folder
        if (path / f"{dataset}.tar.xz").is_file():
            path = path / f"{dataset}.tar.xz"
        else:
            raise TinyZooError(f"{source}: holds neither {', '.join(_MEMBERS)} nor "
                               f"{dataset}/ nor {dataset}.tar.xz")
    if not path.is_file():
        raise TinyZooError(f"{source}: no such file or folder")
    if sha256 is not None:
        got = sha256_file(path)
        if got != sha256:
            raise TinyZooError(f"{path}: sha256 {got}, expected {sha256}; not imported")
    return _extract(path, staging / dataset)
