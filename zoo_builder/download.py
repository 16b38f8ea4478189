"""Download a published zoo, resumably, and verify zoos against their manifests.

A published zoo is a zoo folder (:mod:`zoo_builder.archive`) served over HTTP(S) or
stored in a Hugging Face dataset repo. :func:`download_zoo` fetches ``manifest.json``
first and checks it (valid JSON, complete, config matching its fingerprint, one shard
per training group with a sha256), then every shard that is not already present and
correct. A shard is downloaded to the hidden ``data/.NAME.part`` (resumed with an HTTP
``Range`` request after an interruption), hashed, and moved into place only if its
sha256 equals the manifest's. The manifest is written last, verbatim: until then the
local folder's manifest says ``"complete": false``, so a failed or interrupted download
never leaves a zoo marked complete, and running the same command again resumes it.

:func:`verify_zoo` re-checks a local zoo: manifest, config, split, every shard's sha256,
and no stray files in ``data/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from tinyzoo.errors import TinyZooError
from zoo_builder.archive import (
    CARD,
    DATA,
    MANIFEST,
    atomic_write,
    check_no_stray_files,
    complete_shards,
    dataset_card,
    expected_shard_names,
    json_bytes,
    manifest_config,
    parse_manifest,
    prepare_zoo_dir,
    sha256_file,
    sidecar_name,
    write_sidecar,
)
from zoo_builder.presets import ZooConfig
from zoo_builder.splits import split_record
from zoo_builder.train import training_groups

__all__ = [
    "is_remote",
    "open_remote",
    "cache_folder_for",
    "HttpRemote",
    "HubRemote",
    "DownloadReport",
    "download_zoo",
    "verify_zoo",
    "VerifyReport",
]

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def is_remote(source: str) -> bool:
    """Whether ``source`` names a remote zoo (``http://``, ``https://`` or ``hf://``)."""
    return source.startswith(("http://", "https://", "hf://"))


def cache_folder_for(source: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """The local folder a remote zoo is downloaded to by ``load_zoo``:
    ``<cache>/zoos/<readable name>-<sha256(source)[:12]>``, with ``<cache>`` =
    ``cache_dir``, else ``$TINYZOO_CACHE``, else ``~/.cache/tinyzoo``."""
    base = Path(cache_dir or os.environ.get("TINYZOO_CACHE") or Path.home() / ".cache/tinyzoo")
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", source.split("://", 1)[-1]).strip("_")[-60:]
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return base / "zoos" / f"{readable}-{digest}"


# --------------------------------------------------------------------------- remotes


class HttpRemote:
    """A zoo folder served over HTTP(S) at ``base_url`` (``base_url/manifest.json``,
    ``base_url/data/<shard>``)."""

    def __init__(self, base_url: str, timeout: float = _TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def url(self, name: str) -> str:
        return f"{self.base_url}/{urllib.parse.quote(name)}"

    def _open(self, name: str, headers: dict[str, str] | None = None):
        url = self.url(name)
        request = urllib.request.Request(url, headers=headers or {})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            if e.code == 416:
                return e  # range not satisfiable: handled by fetch
            raise TinyZooError(f"{url}: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise TinyZooError(f"{url}: cannot connect ({reason})") from None

    def read_bytes(self, name: str, missing_ok: bool = False) -> bytes | None:
        """The whole file ``name``; ``None`` if it is absent (HTTP 404) and
        ``missing_ok``."""
        try:
            response = self._open(name)
        except TinyZooError as e:
            if missing_ok and "HTTP 404" in str(e):
                return None
            raise
        with response:
            try:
                return response.read()
            except (http.client.HTTPException, OSError) as e:
                raise TinyZooError(f"{self.url(name)}: connection lost ({e!r})") from None

    def fetch(self, name: str, part: Path, on_bytes=None) -> None:
        """Download ``name`` into ``part``, continuing an existing partial file with a
        ``Range`` request (the server may answer with the whole file instead)."""
        have = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        response = self._open(name, headers)
        url = self.url(name)
        with response:
            status = getattr(response, "status", None) or response.getcode()
            if status == 416:  # the partial file already holds every byte
                return
            mode = "ab" if (have and status == 206) else "wb"
            if mode == "wb" and on_bytes is not None and have:
                on_bytes(-have)
            length = response.headers.get("Content-Length")
            expected = int(length) if length is not None and length.isdigit() else None
            got = 0
            with open(part, mode) as f:
                try:
                    while True:
                        block = response.read(_CHUNK)
                        if not block:
                            break
                        f.write(block)
                        got += len(block)
                        if on_bytes is not None:
                            on_bytes(len(block))
                except (TimeoutError, http.client.HTTPException, OSError) as e:
                    raise TinyZooError(
                        f"{url}: connection lost after {got} bytes ({type(e).__name__}); "
                        "run the same command again to resume"
                    ) from None
            if expected is not None and got != expected:
                raise TinyZooError(
                    f"{url}: connection lost after {got} of {expected} bytes; run the "
                    "same command again to resume"
                )


class HubRemote:
    """A zoo folder in the Hugging Face dataset repo ``repo_id`` (at ``revision``), read
    through ``huggingface_hub`` (which caches and resumes downloads itself)."""

    def __init__(self, repo_id: str, revision: str | None = None,
                 endpoint: str | None = None) -> None:
        self.repo_id, self.revision, self.endpoint = repo_id, revision, endpoint

    def url(self, name: str) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        return f"hf://{self.repo_id}{rev}/{name}"

    def _download(self, name: str, missing_ok: bool = False) -> str | None:
        import huggingface_hub
        from huggingface_hub import errors

        try:
            return huggingface_hub.hf_hub_download(
                self.repo_id, name, repo_type="dataset", revision=self.revision,
                endpoint=self.endpoint,
            )
        except (errors.OfflineModeIsEnabled, errors.LocalEntryNotFoundError) as e:
            if _hub_offline():
                raise TinyZooError(
                    f"{self.url(name)}: HF_HUB_OFFLINE is set and the file is not in the "
                    "local Hugging Face cache; unset HF_HUB_OFFLINE or use a local zoo folder"
                ) from None
            raise TinyZooError(f"{self.url(name)}: cannot reach the Hub ({e})") from None
        except errors.EntryNotFoundError:  # LocalEntryNotFoundError is caught above
            if missing_ok:
                return None
            raise TinyZooError(f"{self.url(name)}: no such file in the repo") from None
        except errors.RepositoryNotFoundError:
            raise TinyZooError(
                f"hf://{self.repo_id}: no such dataset repo (or it is private and no "
                "token is set)"
            ) from None
        except Exception as e:  # network and HTTP errors of the Hub client
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise TinyZooError(f"{self.url(name)}: {message}") from None

    def read_bytes(self, name: str, missing_ok: bool = False) -> bytes | None:
        path = self._download(name, missing_ok)
        return None if path is None else Path(path).read_bytes()

    def fetch(self, name: str, part: Path, on_bytes=None) -> None:
        path = self._download(name)
        shutil.copyfile(path, part)
        if on_bytes is not None:
            on_bytes(part.stat().st_size)


def _hub_offline() -> bool:
    try:
        from huggingface_hub import constants

        if getattr(constants, "HF_HUB_OFFLINE", False):
            return True
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        pass
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def open_remote(source: str) -> HttpRemote | HubRemote:
    """The remote behind ``source``: ``http(s)://...`` or ``hf://ORG/NAME[@REVISION]``."""
    if source.startswith("hf://"):
        rest = source[len("hf://"):].strip("/")
        repo, _, revision = rest.partition("@")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise TinyZooError(f"{source}: expected hf://ORG/NAME or hf://ORG/NAME@REVISION")
        return HubRemote(repo, revision or None)
    if source.startswith(("http://", "https://")):
        return HttpRemote(source)
    raise TinyZooError(f"{source}: not a remote zoo (expected https://..., http://... or hf://)")


# --------------------------------------------------------------------------- download


@dataclass(frozen=True)
class DownloadReport:
    zoo_dir: Path
    shards_downloaded: int
    shards_present: int
    bytes_downloaded: int


def _check_remote_manifest(manifest: dict, where: str) -> ZooConfig:
    """The config of a remote manifest, after checking it describes a complete zoo."""
    config = manifest_config(manifest, where)
    if manifest.get("complete") is not True:
        raise TinyZooError(f"{where}: the published zoo is not complete")
    if manifest.get("splits") != split_record(config):
        raise TinyZooError(f"{where}: its split differs from zoo_builder.splits'")
    expected = expected_shard_names(config)
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
    return config


def download_zoo(
    source: str, out: str | os.PathLike, progress: bool = True
) -> DownloadReport:
    """Download the zoo at ``source`` into folder ``out`` (see the module docstring).

    Resumes a partial download in ``out``; a shard already present with the manifest's
    sha256 is kept. Refuses a folder holding another config's zoo, a complete zoo with
    other shard checksums (another build of the same config), or a non-zoo folder.

    Raises:
      TinyZooError: one line naming the URL or file: unreachable source, HTTP error,
        missing shard, truncated manifest, checksum mismatch, lost connection.
    """
    remote = open_remote(source)
    manifest_url = remote.url(MANIFEST)
    raw = remote.read_bytes(MANIFEST)
    manifest = parse_manifest(raw, manifest_url)
    config = _check_remote_manifest(manifest, manifest_url)
    zoo_dir = Path(out)
    local_manifest = zoo_dir / MANIFEST
    if local_manifest.is_file() and local_manifest.read_bytes() == raw:
        problems = verify_zoo(zoo_dir).problems
        if not problems:
            return DownloadReport(zoo_dir, 0, len(manifest["shards"]), 0)
    zoo_dir = prepare_zoo_dir(zoo_dir, config)  # refuses other configs and non-zoo folders
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
    groups = training_groups(config)
    present = complete_shards(zoo_dir, config)
    names = expected_shard_names(config)
    todo = []
    for group, name in zip(groups, names, strict=True):
        want = manifest["shards"][name]["sha256"]
        if present.get(group.index) == want:
            continue
        path = data_dir / name
        if path.is_file() and sha256_file(path) == want:  # e.g. a lost sidecar
            write_sidecar(zoo_dir, config, group.index, want)
            continue
        todo.append((group.index, name, want))

    bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024,
               desc=f"downloading {len(todo)} shards", disable=not progress)
    downloaded = 0

    def on_bytes(n: int) -> None:
        nonlocal downloaded
        downloaded += n
        bar.update(n)

    with bar:
        for index, name, want in todo:
            part = data_dir / f".{name}.part"
            remote.fetch(f"{DATA}/{name}", part, on_bytes)
            got = sha256_file(part)
            if got != want:
                with contextlib.suppress(OSError):
                    part.unlink()
                raise TinyZooError(
                    f"{remote.url(DATA + '/' + name)}: sha256 mismatch (manifest "
                    f"{want[:12]}..., downloaded {got[:12]}...): corrupted shard, not kept"
                )
            with contextlib.suppress(FileNotFoundError):
                (data_dir / sidecar_name(index, len(groups))).unlink()
            os.replace(part, data_dir / name)
            write_sidecar(zoo_dir, config, index, want)

    card = remote.read_bytes(CARD, missing_ok=True)
    atomic_write(zoo_dir / CARD, card if card is not None else dataset_card(config).encode())
    check_no_stray_files(zoo_dir, config)  # every shard was hashed above
    atomic_write(local_manifest, raw)  # verbatim: this marks the zoo complete
    return DownloadReport(zoo_dir, len(todo), len(names) - len(todo), downloaded)



# --------------------------------------------------------------------------- verify


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
    the split is :mod:`zoo_builder.splits`'; the manifest lists exactly the config's
    shards; every shard exists with the listed sha256; ``data/`` holds no other
    visible file. Reads every shard once; writes nothing.

    Raises:
      TinyZooError: if the manifest itself is missing or unreadable (nothing else can
        be checked then).
    """
    from zoo_builder.archive import read_manifest

    zoo_dir = Path(zoo_dir)
    where = str(zoo_dir / MANIFEST)
    if manifest is None:
        manifest = read_manifest(zoo_dir)
    problems: list[tuple[str, str]] = []
    config = manifest_config(manifest, where)
    if manifest.get("complete") is not True:
        problems.append((where, "zoo not marked complete (an unfinished build or download)"))
    if manifest.get("splits") != split_record(config):
        problems.append((where, "no split, or a split other than zoo_builder.splits'"))
    expected = expected_shard_names(config)
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
