"""Code submissions run sealed: a child process trains and predicts, the parent scores.

``tinyzoo bench path/file.py:Class`` never imports the user's file into the harness's
own process. :class:`SealedRun` starts a fresh interpreter (``multiprocessing``'s
``spawn``) that first seals the test labels (:func:`zoo_data.archive.seal.seal_test_labels`),
then imports the file and runs :func:`benchmarks.protocol.run_protocol` with
``score=False`` for each seed asked for: it sees the train and val splits with their
labels and the test split's weights only, and sends back, per seed, the run without
test metrics, its test predictions in test-id order, and (seed 0) the symmetry audit.
The parent, which runs no user code, reads the test labels and scores
(:func:`benchmarks.protocol.score_run`).

What this guarantees: a predictor that asks the package for test labels (``load_zoo(
..., split="test").labels``, ``Zoo.metadata``, ``batches(labels=True)``, the reader's
table) gets a :class:`~zoo_data.errors.TinyZooError` or NaN, and cannot change how it
is scored. What it does not: the child runs with the user's permissions, so it can
still open the Parquet files on disk with another library; the leaderboard's rules
forbid that (docs/LEADERBOARD_RULES.md).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from benchmarks.protocol_config import ProtocolConfig
from zoo_data.common.progress import Progress
from zoo_data.errors import TinyZooError

__all__ = ["SealedRun"]

_POLL_S = 0.5


class _EpochRelay(Progress):
    """The child's progress: each epoch goes to the parent as ``("epoch", (n,
    postfix))``, where the parent's display shows it."""

    def __init__(self, conn) -> None:
        super().__init__()
        self._conn, self._postfix = conn, {}

    def set_postfix(self, **values) -> None:
        self._postfix = values

    def update(self, n: float = 1) -> None:
        self._conn.send(("epoch", (n, self._postfix)))


def _child(conn, method: str, zoo_dir: str, config: ProtocolConfig, progress: bool,
           audit: bool, split_scheme: str) -> None:
    """The sealed process: seal, import the submission, run the seeds the parent asks
    for; every message is ``(kind, payload)`` of plain data."""
    from zoo_data.archive.seal import seal_test_labels

    _die_with_parent()
    seal_test_labels(split_scheme)  # before any user code runs
    try:
        from benchmarks.audit import audit_predictor
        from benchmarks.protocol import run_protocol
        from predictors.registry import load_predictor
        from zoo_data.zoo import open_local_zoo

        predictor, kind = load_predictor(method)
        conn.send(("predictor", {"name": predictor.name, "reads": predictor.reads,
                                 "title": predictor.title(), "kind": kind}))
        seeds = conn.recv()
        # the parent verified the shards
        zoo = open_local_zoo(zoo_dir, verify=False, split_scheme=split_scheme)
        for seed in seeds:
            relay = _EpochRelay(conn) if progress else False
            result = run_protocol(predictor, zoo, seed, config, relay, score=False)
            audited = None
            if seed == 0 and audit:  # None for a predictor that reads no weights
                audited = audit_predictor(result.trained, zoo.with_split("test"))
            run = {k: v for k, v in vars(result).items() if k != "trained"}
            conn.send(("seed", (run, audited)))
        conn.send(("done", None))
    except TinyZooError as e:
        conn.send(("error", str(e)))
    except BaseException as e:  # noqa: BLE001 - the user's code: report it in one line
        conn.send(("error", f"{method}: {type(e).__name__}: {e}"))
    finally:
        conn.close()


#: Default wall-clock limit of one seed of a code submission, in seconds
#: (``tinyzoo bench --time-limit``).
DEFAULT_TIME_LIMIT_S = 3600.0
#: The least time the child is given to start (import jax and the user's file) whatever
#: the per-seed limit: a start past it is stopped too.
START_LIMIT_S = 300.0


def _die_with_parent() -> None:
    """End this (child) process when its parent ends, however the parent ends (SIGTERM,
    SIGKILL, a crash): on Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); a thread
    also watches for the parent's exit, on any system."""
    import signal
    import threading
    import time

    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent ended before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def _main_module_hidden():
    """Start the child without re-running the parent's ``__main__``: ``spawn`` imports the
    main script (or ``-m`` module) in the child unless it cannot find it, and a script
    without an ``if __name__ == "__main__"`` guard (a notebook saved as a script, say)
    would run again there, harness and all. The child needs only this module."""
    main = sys.modules.get("__main__")
    saved = {k: getattr(main, k) for k in ("__file__", "__spec__") if hasattr(main, k)}
    try:
        if "__file__" in saved:
            del main.__file__
        if "__spec__" in saved:
            main.__spec__ = None  # spawn reads it, and None means: no module to import
        yield
    finally:
        for key, value in saved.items():
            setattr(main, key, value)


class SealedRun:
    """A code submission's sealed process (module docstring), as a context manager.

    Attributes (once entered):
      predictor: ``{"name", "reads", "title", "kind"}`` of the submission, as the child
        found them.
    """

    def __init__(self, method: str, zoo_dir: str | os.PathLike, config: ProtocolConfig,
                 progress: bool = False, audit: bool = True,
                 split_scheme: str = "id-ranges",
                 time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
        self.method, self.zoo_dir = method, str(Path(zoo_dir))
        self.split_scheme, self.time_limit_s = split_scheme, time_limit_s
        self.config, self.progress, self.audit = config, progress, audit
        self.predictor: dict = {}

    def __enter__(self) -> SealedRun:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_conn, self.method, self.zoo_dir, self.config,
                                 self.progress, self.audit, self.split_scheme), daemon=True)
        with _main_module_hidden():
            self._process.start()
        child_conn.close()
        self.predictor = self._receive("predictor",
                                       limit=max(self.time_limit_s, START_LIMIT_S))
        return self

    def __exit__(self, *exc) -> None:
        self._conn.close()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()

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
                if not self._process.is_alive():
                    break
                if time.monotonic() > deadline:
                    self._process.kill()
                    self._process.join()
                    raise TinyZooError(
                        f"{self.method}: {what} ran past the time limit of "
                        f"{limit:g} s (tinyzoo bench --time-limit); its process was stopped")
            try:
                kind, payload = self._conn.recv()
            except (EOFError, OSError):
                self._process.join(timeout=5)
                raise TinyZooError(
                    f"{self.method}: the predictor's process ended without a result (exit "
                    f"code {self._process.exitcode})") from None
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
