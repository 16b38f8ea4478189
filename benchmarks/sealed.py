"""Code submissions run sealed: a child process trains and predicts, the parent scores.

``tinyzoo bench path/file.py:Class`` never imports the user's file into the harness's
own process. :class:`SealedRun` starts a fresh interpreter
(:mod:`benchmarks.sealed_child`) and hands it, through a socket it inherits, the zoo's
rows as plain data: the train and validation models with their labels and the test
models' weights and metadata without labels
(:func:`zoo_data.sealed_zoo.sealed_rows`). The child seals the test labels
(:func:`zoo_data.archive.seal.seal_test_labels`), imports the file and runs
:func:`benchmarks.protocol.run_protocol` with ``score=False`` for each seed asked for,
and sends back per seed the run without test metrics, its test predictions in test-id
order, and (seed 0) the symmetry audit. The parent, which runs no user code, reads the
test labels, scores (:func:`benchmarks.protocol.score_run`) and writes the record.

What the child is given: no path to the zoo, the results folder or the repository's
``data/`` and ``leaderboard/`` folders; an empty temporary working folder; an
environment of a few variables (:data:`KEPT_ENVIRONMENT`, ``HOME`` the temporary
folder, ``PYTHONPATH`` the harness's packages). Where Debian's bubblewrap (``bwrap``)
runs (:func:`sandbox_command`), the child also runs in its own mount and network
namespaces: the file system read-only, the zoo folder, the results folder and the
repository's ``data/`` and ``leaderboard/`` replaced by empty ones, its own ``/tmp``,
no network. What it cannot do either way: read a test label through the package (it
never received one), or write a record (the parent does, after recomputing it). What
it still can without bubblewrap: open files the user can read, such as the zoo's
Parquet shards by a path it guesses, which the leaderboard's rules forbid
(docs/LEADERBOARD_RULES.md); with it, read files outside those folders.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from benchmarks.protocol_config import ProtocolConfig
from zoo_data.common.progress import Progress
from zoo_data.errors import TinyZooError

__all__ = ["DEFAULT_TIME_LIMIT_S", "KEPT_ENVIRONMENT", "SANDBOX_ENV", "START_LIMIT_S",
           "SealedRun", "sandbox_command"]

_POLL_S = 0.5
#: The environment variables the child keeps (others are dropped).
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED", "JAX_PLATFORMS",
                    "JAX_ENABLE_X64", "XLA_FLAGS", "CUDA_VISIBLE_DEVICES",
                    "OMP_NUM_THREADS", "TINYZOO_NO_VERIFY")
#: ``TINYZOO_SANDBOX=0`` runs the child without bubblewrap even where it works.
SANDBOX_ENV = "TINYZOO_SANDBOX"


_BASE_MOUNTS = ("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp")
_NAMESPACES = ("--unshare-net", "--die-with-parent", "--new-session", "--")


@cache
def _bubblewrap_runs() -> bool:
    """Whether ``bwrap`` is installed and may make namespaces here (a container may
    forbid them)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False
    try:  # the same mounts and namespaces as the child's (a container may allow some)
        done = subprocess.run([bwrap, *_BASE_MOUNTS, *_NAMESPACES, "true"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def sandbox_command(hidden: list[Path], workdir: Path,
                    shown: list[Path] = ()) -> list[str] | None:
    """The ``bwrap`` command line that runs a program with the file system read-only,
    a fresh ``/tmp`` in which only the harness's packages and the folders ``shown`` (the
    submission's) are seen,
    each existing folder of ``hidden`` replaced by an empty one (even inside those),
    ``workdir`` writable and current, and no network; ``None`` where bubblewrap does
    not run (or ``TINYZOO_SANDBOX=0``)."""
    if os.environ.get(SANDBOX_ENV) == "0" or not _bubblewrap_runs():
        return None
    command = [shutil.which("bwrap"), *_BASE_MOUNTS]
    for folder in (_package_root(), *shown):  # the harness's code may live under /tmp
        if folder.is_dir():
            command += ["--ro-bind", str(folder), str(folder)]
    for folder in hidden:
        if folder.is_dir():
            command += ["--tmpfs", str(folder.resolve())]
    return command + ["--bind", str(workdir), str(workdir), "--chdir", str(workdir),
                      *_NAMESPACES]


def _package_root() -> Path:
    """The folder that holds the harness's packages (``benchmarks``, ``predictors``)."""
    return Path(__file__).resolve().parents[1]


#: Default wall-clock limit of one seed of a code submission, in seconds
#: (``tinyzoo bench --time-limit``).
DEFAULT_TIME_LIMIT_S = 3600.0
#: The least time the child is given to start (import jax and the user's file) whatever
#: the per-seed limit: a start past it is stopped too.
START_LIMIT_S = 300.0


class SealedRun:
    """A code submission's sealed process (module docstring), as a context manager.

    Args:
      zoo: the open, verified zoo (its rows go to the child, test labels removed).
      results_dir: the results folder (hidden from the child in the sandbox).

    Attributes (once entered):
      predictor: ``{"name", "reads", "title", "kind"}`` of the submission, as the child
        found them.
      sandbox: ``"bubblewrap"`` or ``"none"`` (:func:`sandbox_command`).
    """

    def __init__(self, method: str, zoo, config: ProtocolConfig, results_dir: str | os.PathLike,
                 progress: bool = False, audit: bool = True,
                 time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
        self.method, self.zoo, self.results_dir = method, zoo, results_dir
        self.split_scheme, self.time_limit_s = zoo.split_scheme, time_limit_s
        self.config, self.progress, self.audit = config, progress, audit
        self.predictor: dict = {}

    def __enter__(self) -> SealedRun:
        ours, theirs = socket.socketpair()
        self._workdir = Path(tempfile.mkdtemp(prefix="tinyzoo-sealed-"))
        hidden = [Path(self.zoo.path), Path(self.results_dir),
                  _package_root() / "data", _package_root() / "leaderboard"]
        path_text, sep, class_name = self.method.rpartition(":")
        method, shown = self.method, []
        if sep and path_text.endswith(".py"):  # the child starts elsewhere: an absolute path
            source = Path(path_text).resolve()
            method, shown = f"{source}:{class_name}", [source.parent]
        sandbox = sandbox_command(hidden, self._workdir, shown)
        self.sandbox = "bubblewrap" if sandbox is not None else "none"
        env = {k: os.environ[k] for k in KEPT_ENVIRONMENT if k in os.environ}
        env.update(HOME=str(self._workdir), PYTHONPATH=str(_package_root()),
                   PYTHONDONTWRITEBYTECODE="1")
        command = [sys.executable, "-m", "benchmarks.sealed_child", str(theirs.fileno())]
        self._process = subprocess.Popen(
            (sandbox or []) + command, cwd=self._workdir, env=env,
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        theirs.close()
        from multiprocessing.connection import Connection

        self._conn = Connection(os.dup(ours.fileno()))
        ours.close()
        try:
            self._conn.send({"method": method, "name": self.method,
                             "config": self.config,
                             "progress": self.progress, "audit": self.audit,
                             "split_scheme": self.split_scheme})
            from zoo_data.sealed_zoo import sealed_rows

            for message in sealed_rows(self.zoo):
                self._conn.send(message)
        except OSError:
            pass  # the child ended early: _receive says how
        self.predictor = self._receive("predictor",
                                       limit=max(self.time_limit_s, START_LIMIT_S))
        return self

    def __exit__(self, *exc) -> None:
        self._conn.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _receive(self, expected: str, bar: Progress | None = None, what: str = "start",
                 limit: float | None = None):
        """The payload of the next message, which must be ``expected``; ``epoch``
        messages before it advance ``bar``. Past :attr:`time_limit_s` the child is
        stopped and the run refused (``what`` names the step in the message)."""
        import time

        limit = self.time_limit_s if limit is None else limit
        deadline = time.monotonic() + limit
        while True:
            while not self._conn.poll(_POLL_S):
                if self._process.poll() is not None:
                    break
                if time.monotonic() > deadline:
                    self._process.kill()
                    self._process.wait()
                    raise TinyZooError(
                        f"{self.method}: {what} ran past the time limit of "
                        f"{limit:g} s (tinyzoo bench --time-limit); its process was stopped")
            try:
                kind, payload = self._conn.recv()
            except (EOFError, OSError):
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                raise TinyZooError(
                    f"{self.method}: the predictor's process ended without a result (exit "
                    f"code {self._process.returncode})") from None
            if kind != "epoch":
                break
            if bar is not None:
                bar.set_postfix(**payload[1])
                bar.update(payload[0])
        if kind == "error":
            raise TinyZooError(payload)
        if kind != expected:
            raise TinyZooError(f"{self.method}: the predictor's process sent {kind!r} "
                               f"where {expected!r} was due")
        return payload

    def run(self, seeds: list[int], bar: Progress | None = None
            ) -> Iterator[tuple[dict, dict | None]]:
        """For each of ``seeds`` in order: ``(run, audit)``, where ``run`` holds the
        :class:`~benchmarks.protocol.RunResult` fields but ``trained``, unscored; the
        child's epochs advance ``bar`` (if it was started with ``progress``)."""
        self._conn.send(list(seeds))
        for seed in seeds:
            run, audited = self._receive("seed", bar, what=f"seed {seed}")
            run["test_model_ids"] = np.asarray(run["test_model_ids"])
            yield run, audited
        self._receive("done")
