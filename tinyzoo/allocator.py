"""Run the command line under gperftools' tcmalloc where the machine has it.

XLA's CPU runtime takes every compiled call's working buffers from ``malloc`` and frees
them when the call returns. The C library's malloc serves blocks that large with fresh
``mmap`` pages and unmaps them at ``free``, so each call of a predictor's training step
page-faults its whole working set again: 75 MB a step for UNF at hidden 32 and 802 MB at
hidden 128 (``docs/BENCHMARKS.md``). tcmalloc keeps freed pages for the next call.
The computation is the same, and so are its results, bit for bit; only where the buffers
live changes. Under it one call of the UNF step takes 0.74x the time at hidden 32 and
a ``mini`` zoo build 0.91x; a predictor's training, which already runs many steps per
compiled call, takes as long as before.

A library chosen at start-up cannot be swapped inside a running process, so the console
entry point (:func:`tinyzoo.launch.console_main`) calls :func:`reexec_under_tcmalloc`
first: if a tcmalloc library is installed (Debian/Ubuntu: ``libtcmalloc-minimal4``), it
replaces the process with the same command under ``LD_PRELOAD`` (same process id, same
arguments, same standard streams). Nothing happens where there is none, off Linux, when
it is preloaded already, or when ``TINYZOO_MALLOC=system`` asks for the C library's
malloc.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable, Mapping, Sequence

__all__ = ["LIBRARY_NAMES", "OPT_OUT", "library_dirs", "find_tcmalloc", "preload_env",
           "reexec_under_tcmalloc"]

#: The shared libraries that provide tcmalloc, preferred first.
LIBRARY_NAMES = ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4")

#: ``TINYZOO_MALLOC=system`` keeps the C library's malloc; unset or ``tcmalloc``, the
#: command line uses tcmalloc when it finds it. Any other value is an error.
OPT_OUT = "TINYZOO_MALLOC"


def library_dirs() -> list[str]:
    """Where shared libraries are installed: the multiarch folders of Debian and Ubuntu
    first, then the usual others."""
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    dirs = [f"/usr/lib/{arch}", f"/lib/{arch}"] if arch else []
    return dirs + ["/usr/lib64", "/usr/lib", "/usr/local/lib"]


def find_tcmalloc(dirs: Sequence[str] | None = None,
                  exists: Callable[[str], bool] = os.path.isfile) -> str | None:
    """The path of the first :data:`LIBRARY_NAMES` library in ``dirs``, or None."""
    for name in LIBRARY_NAMES:
        for d in library_dirs() if dirs is None else dirs:
            path = os.path.join(d, name)
            if exists(path):
                return path
    return None


def preload_env(environ: Mapping[str, str], library: str | None,
                platform: str = sys.platform) -> dict[str, str] | None:
    """The environment to re-run the command in, with ``library`` preloaded; None when the
    command should run as it is (no library, not Linux, opted out, or preloaded already).

    Raises:
      ValueError: ``TINYZOO_MALLOC`` is neither ``system`` nor ``tcmalloc``.
    """
    choice = environ.get(OPT_OUT) or "tcmalloc"  # set but empty: as if unset
    if choice not in ("system", "tcmalloc"):
        raise ValueError(f"{OPT_OUT}={choice!r}: use 'system' (the C library's malloc) or "
                         "'tcmalloc'")
    if choice == "system" or library is None or not platform.startswith("linux"):
        return None
    preloaded = [p for p in environ.get("LD_PRELOAD", "").replace(" ", ":").split(":") if p]
    if any(os.path.basename(p).startswith("libtcmalloc") for p in preloaded):
        return None
    env = dict(environ)
    env["LD_PRELOAD"] = ":".join([library, *preloaded])
    env[OPT_OUT] = "tcmalloc"
    return env


def reexec_under_tcmalloc(argv: Sequence[str] | None = None,
                          library: str | None = None) -> None:
    """Replace this process with the same command under tcmalloc, if :func:`preload_env`
    says so; return (and go on with the C library's malloc) otherwise or if the exec
    fails. ``argv`` defaults to :data:`sys.orig_argv` (the interpreter's own command
    line, so ``python -m tinyzoo`` and the console script both re-run as started);
    ``library`` to :func:`find_tcmalloc`'s."""
    try:
        env = preload_env(os.environ, library if library is not None else find_tcmalloc())
    except ValueError as exc:
        print(f"tinyzoo: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if env is None:
        return
    args = list(sys.orig_argv if argv is None else argv)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable, *args[1:]], env)
    except OSError:
        return
