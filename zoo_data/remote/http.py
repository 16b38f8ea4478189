"""Where a published zoo is read from: an HTTP(S) folder or a Hugging Face dataset repo.

A published zoo is a zoo folder (:mod:`zoo_data.archive.layout`) served over HTTP(S) or stored
in a Hugging Face dataset repo. Both remotes offer the same two calls:
``read_bytes(name, limit)`` (a whole small file, e.g. the manifest) and
``fetch(name, part, limit=...)`` (a shard into a partial file, resumed where possible),
each refusing a body longer than ``limit`` bytes, and a ``hosts`` list: every host
that served a byte, in order (a redirect to another host is reported through
``on_notice`` the first time it happens, so the user is told where the data came from).

Over HTTP, a connection that delivers no byte for ``stall_s`` seconds (default 60, or
``$TINYZOO_STALL_S``) is given up with one line; the download resumes when run again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from zoo_data.errors import TinyZooError

__all__ = ["is_remote", "open_remote", "cache_folder_for", "HttpRemote", "HubRemote"]

_CHUNK = 1 << 20
_STALL_S = 60.0
STALL_ENV = "TINYZOO_STALL_S"
#: Environment variable: the slowest average rate (bytes per second) a shard's transfer
#: may keep once it has run for the stall time; a drip feed below it is given up.
MIN_RATE_ENV = "TINYZOO_MIN_RATE"
_MIN_RATE = 1024.0


def min_rate() -> float:
    """Bytes per second below which a transfer that has run for the stall time is given
    up: ``$TINYZOO_MIN_RATE`` if set to a number (0 turns the check off), else 1024."""
    value = os.environ.get(MIN_RATE_ENV)
    if value is None:
        return _MIN_RATE
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0 <= rate < 1e12:
        raise TinyZooError(f"${MIN_RATE_ENV} {value!r}: need a number of bytes per second "
                           "(0: no minimum)")
    return rate


def stall_seconds() -> float:
    """Seconds without a byte after which an HTTP transfer is given up:
    ``$TINYZOO_STALL_S`` if set to a positive number, else 60."""
    value = os.environ.get(STALL_ENV)
    if value is None:
        return _STALL_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < 1e6:
        raise TinyZooError(f"${STALL_ENV} {value!r}: need a positive number of seconds")
    return seconds


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


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


class HttpRemote:
    """A zoo folder served over HTTP(S) at ``base_url`` (``base_url/manifest.json``,
    ``base_url/data/<shard>``).

    Attributes:
      hosts: every host (``host[:port]``) that answered a request, first the
        ``base_url``'s, then each host a redirect led to, in order.
      on_notice: called with one line when a redirect first leads to a new host.
    """

    def __init__(self, base_url: str, stall_s: float | None = None,
                 on_notice=None) -> None:
        self.base_url = base_url.rstrip("/")
        self.stall_s = stall_seconds() if stall_s is None else stall_s
        self.hosts: list[str] = [_host(self.base_url)]
        self.on_notice = on_notice

    def url(self, name: str) -> str:
        return f"{self.base_url}/{urllib.parse.quote(name)}"

    def _stalled(self, url: str, got: int) -> TinyZooError:
        return TinyZooError(
            f"{url}: no data for {self.stall_s:g} s after {got} bytes (stalled); run the "
            "same command again to resume"
        )

    def _open(self, name: str, headers: dict[str, str] | None = None):
        url = self.url(name)
        request = urllib.request.Request(url, headers=headers or {})
        try:
            response = urllib.request.urlopen(request, timeout=self.stall_s)
        except urllib.error.HTTPError as e:
            if e.code == 416:
                return e  # range not satisfiable: handled by fetch
            raise TinyZooError(f"{url}: HTTP {e.code} {e.reason}") from None
        except TimeoutError:
            raise self._stalled(url, 0) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            if isinstance(reason, TimeoutError):
                raise self._stalled(url, 0) from None
            raise TinyZooError(f"{url}: cannot connect ({reason})") from None
        host = _host(response.geturl())
        if host not in self.hosts:
            self.hosts.append(host)
            if self.on_notice is not None:
                self.on_notice(f"{url}: redirected to another host, {host}; the data "
                               "still has to match the manifest's sha256")
        return response

    @staticmethod
    def _declared_length(response) -> int | None:
        length = response.headers.get("Content-Length")
        return int(length) if length is not None and length.isdigit() else None

    def read_bytes(self, name: str, missing_ok: bool = False, *,
                   limit: int) -> bytes | None:
        """The whole file ``name`` (at most ``limit`` bytes, else refused); ``None``
        if it is absent (HTTP 404) and ``missing_ok``."""
        try:
            response = self._open(name)
        except TinyZooError as e:
            if missing_ok and "HTTP 404" in str(e):
                return None
            raise
        url = self.url(name)
        with response:
            declared = self._declared_length(response)
            if declared is not None and declared > limit:
                raise TinyZooError(f"{url}: declares {declared:,} bytes, more than the "
                                   f"{limit:,} such a file may have; not read")
            try:
                body = response.read(limit + 1)
            except TimeoutError:
                raise self._stalled(url, 0) from None
            except (http.client.HTTPException, OSError) as e:
                raise TinyZooError(f"{url}: connection lost ({e!r})") from None
        if len(body) > limit:
            raise TinyZooError(f"{url}: longer than the {limit:,} bytes such a file may "
                               "have; not read")
        return body

    def fetch(self, name: str, part: Path, on_bytes=None, *, limit: int) -> None:
        """Download ``name`` (at most ``limit`` bytes, else refused) into ``part``,
        continuing an existing partial file with a ``Range`` request (the server may
        answer with the whole file instead)."""
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
            start = have if mode == "ab" else 0
            expected = self._declared_length(response)
            if expected is not None and start + expected > limit:
                raise TinyZooError(
                    f"{url}: declares {start + expected:,} bytes, more than the {limit:,} "
                    "this shard can hold; not downloaded")
            got = 0
            floor, began = min_rate(), time.monotonic()
            with open(part, mode) as f:
                try:
                    while True:
                        # read1: what has arrived (up to a chunk), so a stall keeps it
                        block = response.read1(_CHUNK)
                        if not block:
                            break
                        got += len(block)
                        if start + got > limit:
                            f.truncate(0)
                            raise TinyZooError(
                                f"{url}: sent more than the {limit:,} bytes this shard can "
                                "hold; not kept")
                        try:
                            f.write(block)
                        except OSError as e:  # the disk, not the connection
                            raise TinyZooError(
                                f"{part}: cannot write the download after {got} bytes "
                                f"({e.strerror or e}); free space and run the same "
                                "command again to resume") from None
                        if on_bytes is not None:
                            on_bytes(len(block))
                        elapsed = time.monotonic() - began
                        if floor and elapsed > self.stall_s and got / elapsed < floor:
                            raise TinyZooError(
                                f"{url}: {got / elapsed:,.0f} bytes/s over {elapsed:.0f} s, "
                                f"below the minimum of {floor:,.0f} (${MIN_RATE_ENV}); "
                                "run the same command again to resume")
                except TimeoutError:
                    raise self._stalled(url, got) from None
                except (http.client.HTTPException, OSError) as e:
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
        self.hosts = [_host(endpoint or os.environ.get("HF_ENDPOINT")
                            or "https://huggingface.co")]

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

    def read_bytes(self, name: str, missing_ok: bool = False, *,
                   limit: int) -> bytes | None:
        path = self._download(name, missing_ok)
        if path is None:
            return None
        _check_size(Path(path), limit, self.url(name))
        return Path(path).read_bytes()

    def fetch(self, name: str, part: Path, on_bytes=None, *, limit: int) -> None:
        path = self._download(name)
        _check_size(Path(path), limit, self.url(name))
        shutil.copyfile(path, part)
        if on_bytes is not None:
            on_bytes(part.stat().st_size)


def _check_size(path: Path, limit: int, url: str) -> None:
    size = path.stat().st_size
    if size > limit:
        raise TinyZooError(f"{url}: {size:,} bytes, more than the {limit:,} such a file "
                           "may have; not used")


def _hub_offline() -> bool:
    try:
        from huggingface_hub import constants

        if getattr(constants, "HF_HUB_OFFLINE", False):
            return True
    except ImportError:  # pragma: no cover - huggingface_hub is a dependency
        pass
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}


def open_remote(source: str, on_notice=None) -> HttpRemote | HubRemote:
    """The remote behind ``source``: ``http(s)://...`` or ``hf://ORG/NAME[@REVISION]``;
    ``on_notice`` receives one line when an HTTP redirect leads to another host."""
    if source.startswith("hf://"):
        rest = source[len("hf://"):].strip("/")
        repo, _, revision = rest.partition("@")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise TinyZooError(f"{source}: expected hf://ORG/NAME or hf://ORG/NAME@REVISION")
        return HubRemote(repo, revision or None)
    if source.startswith(("http://", "https://")):
        return HttpRemote(source, on_notice=on_notice)
    raise TinyZooError(f"{source}: not a remote zoo (expected https://..., http://... or hf://)")
