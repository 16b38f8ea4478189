"""Benchmark: the UNF training step under each memory allocator, against the C library's.

XLA's CPU runtime takes a compiled call's working buffers from ``malloc`` and frees them
when the call returns; glibc's malloc hands large blocks back to the kernel, so the next
call page-faults them in again. Does another allocator, preloaded with ``LD_PRELOAD``,
make the step faster, and are its results the same bits?

Each allocator in :data:`ALLOCATORS` that is installed runs in its own process,
``--rounds`` times, interleaved with the others so that any load hits all alike. Each
process compiles the protocol's Adam step of the UNF predictor
(:func:`scripts.unf_step_profile.unf_step`: batch 10, synthetic models at hidden
``--hidden``), times ``--repeats`` calls (median), counts the minor page faults a call
takes (``getrusage``), times a 2048² float32 matmul beside it (so the FLOP bound of
:mod:`scripts.unf_step_xla_flags` is given too), and hashes the outputs of three
successive steps (sha256 of their bytes): the same hash means the same bits.

    python -m scripts.unf_step_allocator --hidden 32 --json docs/results/unf_step_allocator_h32.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from scripts.unf_step_xla_flags import (
    CHILD,
    interleaved,
    step_summary,
    versus,
    write_document,
)
from tinyzoo.allocator import OPT_OUT, library_dirs

#: ``name -> (library file names, extra environment)``; ``system`` preloads nothing.
ALLOCATORS = {
    "system (glibc malloc)": ((), {}),
    "tcmalloc": (("libtcmalloc_minimal.so.4", "libtcmalloc.so.4"), {}),
    "jemalloc, pages kept": (("libjemalloc.so.2",),
                             {"MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}),
}



def find_library(names: tuple[str, ...]) -> str | None:
    """The first of ``names`` installed in :func:`tinyzoo.allocator.library_dirs`."""
    for name in names:
        for d in library_dirs():
            if os.path.isfile(os.path.join(d, name)):
                return os.path.join(d, name)
    return None


def child_env(library: str | None, extra: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``library`` (alone) preloaded, or nothing."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", OPT_OUT)}
    env.update(extra, JAX_PLATFORMS="cpu")
    if library:
        env["LD_PRELOAD"] = library
    return env


def run_once(env: dict[str, str], hidden: int, repeats: int) -> dict:
    """One fresh process's measurement in ``env``; a failure is a one-line error."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(hidden), str(repeats)],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise SystemExit(lines[-1][:300] if lines else f"exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    """:func:`~scripts.unf_step_xla_flags.step_summary` of an allocator's processes, with
    its page faults per step (median) and every distinct hash of its outputs."""
    return {**step_summary(runs),
            "faults_per_step": round(statistics.median(r["faults_per_step"] for r in runs)),
            "outputs_sha256": sorted({r["outputs_sha256"] for r in runs})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    envs = {}
    for name, (names, extra) in ALLOCATORS.items():
        library = find_library(names) if names else None
        if names and library is None:
            print(f"{name:<24} not installed, skipped")
            continue
        envs[name] = (library, child_env(library, extra))
    runs = interleaved(lambda name: run_once(envs[name][1], args.hidden, args.repeats),
                       list(envs), args.rounds)
    base = summarise(runs["system (glibc malloc)"])
    table = {}
    for name, (library, _) in envs.items():
        row = versus(summarise(runs[name]), base, "system", "same_bits_as_system",
                     "outputs_sha256")
        table[name] = row = {**row, "library": library}
        print(f"{name:<24} {row['step_ms']:7.1f} ms  {row['step_vs_system']:.2f}x system  "
              f"{row['step_over_bound']:.2f}x bound  {row['faults_per_step']} faults/step  "
              f"bits {'same' if row['same_bits_as_system'] else 'DIFFER'}")
    write_document(args, "allocators", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
