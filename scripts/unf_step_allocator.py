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
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

from tinyzoo.allocator import OPT_OUT, library_dirs

#: ``name -> (library file names, extra environment)``; ``system`` preloads nothing.
ALLOCATORS = {
    "system (glibc malloc)": ((), {}),
    "tcmalloc": (("libtcmalloc_minimal.so.4", "libtcmalloc.so.4"), {}),
    "jemalloc, pages kept": (("libjemalloc.so.2",),
                             {"MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1"}),
}

_CHILD = """
import hashlib, json, os, resource, statistics, sys, time
from scripts.unf_step_profile import unf_step  # sets its own trace flag: undo it
os.environ.pop("XLA_FLAGS", None)
import jax, jax.numpy as jnp, numpy as np
hidden, repeats = int(sys.argv[1]), int(sys.argv[2])
step, args = unf_step(hidden, 14, 10)
compiled = step.update.lower(*args).compile()
digest = hashlib.sha256()
for _ in range(3):
    for x in jax.tree_util.tree_leaves(jax.block_until_ready(compiled(*args))):
        digest.update(np.asarray(x).tobytes())
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
walls = []
for _ in range(repeats):
    t0 = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    walls.append(time.perf_counter() - t0)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / repeats
a = jnp.ones((2048, 2048), jnp.float32)
mm = jax.jit(lambda m: m @ m)
jax.block_until_ready(mm(a))
t = []
for _ in range(5):
    t0 = time.perf_counter()
    jax.block_until_ready(mm(a))
    t.append(time.perf_counter() - t0)
cost = compiled.cost_analysis()
cost = cost[0] if isinstance(cost, list) else cost
print(json.dumps({"step_ms": 1000 * statistics.median(walls), "gflop": cost["flops"] / 1e9,
                  "matmul_2048_gflop_per_s": 2 * 2048**3 / statistics.median(t) / 1e9,
                  "faults_per_step": faults, "outputs_sha256": digest.hexdigest()}))
"""


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
    done = subprocess.run([sys.executable, "-c", _CHILD, str(hidden), str(repeats)],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise SystemExit(lines[-1][:300] if lines else f"exit code {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarise(runs: list[dict]) -> dict:
    """Medians over an allocator's processes; its step over the FLOP bound."""
    step = statistics.median(r["step_ms"] for r in runs)
    rate = statistics.median(r["matmul_2048_gflop_per_s"] for r in runs)
    bound = runs[0]["gflop"] / rate * 1000
    return {"step_ms": round(step, 1), "step_ms_per_round": [round(r["step_ms"], 1)
                                                              for r in runs],
            "faults_per_step": round(statistics.median(r["faults_per_step"] for r in runs)),
            "matmul_2048_gflop_per_s": round(rate, 1), "flop_bound_ms": round(bound, 1),
            "step_over_bound": round(step / bound, 2),
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
    runs: dict[str, list[dict]] = {name: [] for name in envs}
    for _ in range(args.rounds):
        for name, (_, env) in envs.items():
            runs[name].append(run_once(env, args.hidden, args.repeats))
    base = summarise(runs["system (glibc malloc)"])
    table = {}
    for name, (library, _) in envs.items():
        row = summarise(runs[name])
        row["library"] = library
        row["step_vs_system"] = round(row["step_ms"] / base["step_ms"], 2)
        row["same_bits_as_system"] = row["outputs_sha256"] == base["outputs_sha256"]
        table[name] = row
        print(f"{name:<24} {row['step_ms']:7.1f} ms  {row['step_vs_system']:.2f}x system  "
              f"{row['step_over_bound']:.2f}x bound  {row['faults_per_step']} faults/step  "
              f"bits {'same' if row['same_bits_as_system'] else 'DIFFER'}")
    result = {"date": date.today().isoformat(), "hidden": args.hidden, "batch": 10,
              "repeats": args.repeats, "rounds": args.rounds,
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{os.cpu_count()} cores", "allocators": table}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
