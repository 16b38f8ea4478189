"""The sealed process of a code submission: ``python -m benchmarks.sealed_child FD``,
started by :class:`benchmarks.sealed.SealedRun` (read that module first).

It talks to the harness over the inherited socket ``FD``
(:class:`multiprocessing.connection.Connection`; every message is ``(kind, payload)``
of plain data): it receives its request and the zoo's rows without test labels
(:func:`zoo_data.sealed_zoo.sealed_rows`), seals the test labels, imports the
submission, and for each seed asked for sends back the run without test metrics, its
test predictions and (seed 0) the symmetry audit. It is given no path to the zoo, the
results folder or the repository's data, runs in an empty temporary folder with a
minimal environment, and writes no record.
"""

from __future__ import annotations

import contextlib
import os
import sys

from zoo_data.common.progress import Progress

__all__ = ["die_with_parent", "main"]


def die_with_parent() -> None:
    """End this process when its parent ends, however the parent ends (SIGTERM, SIGKILL,
    a crash): on Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``); a thread also
    watches for the parent's exit, on any system."""
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


def main(fd: int) -> None:
    from multiprocessing.connection import Connection

    die_with_parent()
    conn = Connection(fd)
    request = conn.recv()
    from zoo_data.archive.seal import seal_test_labels

    seal_test_labels(request["split_scheme"])  # before any user code runs
    method, name = request["method"], request["name"]
    try:
        from benchmarks.audit import audit_predictor
        from benchmarks.protocol import run_protocol
        from predictors.registry import load_predictor
        from zoo_data.sealed_zoo import zoo_from_rows

        zoo = zoo_from_rows(iter(conn.recv, None))
        predictor, kind = load_predictor(method)
        conn.send(("predictor", {"name": predictor.name, "reads": predictor.reads,
                                 "title": predictor.title(), "kind": kind}))
        seeds = conn.recv()
        for seed in seeds:
            relay = _EpochRelay(conn) if request["progress"] else False
            result = run_protocol(predictor, zoo, seed, request["config"], relay,
                                  score=False)
            audited = None
            if seed == 0 and request["audit"]:  # None for a predictor reading no weights
                audited = audit_predictor(result.trained, zoo.with_split("test"))
            run = {k: v for k, v in vars(result).items() if k != "trained"}
            conn.send(("seed", (run, audited)))
        conn.send(("done", None))
    except BaseException as e:  # noqa: BLE001 - the user's code: report it in one line
        from zoo_data.errors import TinyZooError

        text = str(e) if isinstance(e, TinyZooError) else f"{name}: {type(e).__name__}: {e}"
        with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
            conn.send(("error", text))
    finally:
        conn.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
