"""Files written whole or not at all, and the hashes that identify them.

Every file of a zoo, a result record or an export is written through
:func:`atomic_target`: a hidden ``.NAME.tmp-<pid>`` file in the same folder, then
``os.replace``, so a reader (or a crash) never sees half a file under the final name.
A temporary left by a writer that was killed is removed by the next write of that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from zoo_data.errors import TinyZooError

__all__ = ["sha256_file", "atomic_target", "atomic_write", "json_bytes", "read_json_object"]


def sha256_file(path: str | os.PathLike) -> str:
    """The hex sha256 of the file at ``path``, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries of ``path`` left by writers that were killed (``SIGKILL``
    leaves no chance to clean up): ``.NAME.tmp-<pid>`` files whose process is gone."""
    if not path.parent.is_dir():
        return
    for stale in path.parent.glob(f".{path.name}.tmp-*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:  # gone: its file is garbage
            with contextlib.suppress(OSError):
                stale.unlink()
        except PermissionError:  # alive, another user's
            continue


@contextlib.contextmanager
def atomic_target(path: str | os.PathLike):
    """Yield a hidden temporary path beside ``path`` to write; on success it replaces
    ``path`` at once, on any error (an interrupt included) it is removed.

    Raises:
      TinyZooError: naming ``path`` if writing fails with an ``OSError``.
    """
    path = Path(path)
    _remove_stale_temporaries(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:  # an interrupt must not leave the temporary file either
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError):
            raise TinyZooError(f"{path}: cannot write ({e.strerror or e})") from e
        raise


def atomic_write(path: str | os.PathLike, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file in the same folder."""
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def json_bytes(obj: dict) -> bytes:
    """``obj`` as indented JSON bytes with a final newline (manifests, sidecars)."""
    return (json.dumps(obj, indent=2) + "\n").encode()


def read_json_object(path: str | os.PathLike) -> dict | None:
    """The JSON object in ``path``, or ``None`` if it is missing, unreadable or invalid."""
    try:
        obj = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None
