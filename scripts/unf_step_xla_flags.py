"""Benchmark: the UNF training step under XLA CPU compiler flags, against the default.

Can a compiler setting, rather than a change to the predictor, bring the UNF step near
its FLOP bound (issue 31)? Each flag set in ``FLAG_SETS`` is run in its own process (XLA
reads ``XLA_FLAGS`` once, when its CPU backend starts), ``--rounds`` times, interleaved
with the others so that any load hits all alike. Each process compiles the protocol's
Adam step of the UNF predictor (:func:`scripts.unf_step_profile.unf_step`: batch 10,
synthetic models at hidden ``--hidden``), times ``--repeats`` calls (median), times a
2048² float32 matmul beside it, and reports XLA's FLOP count and a checksum of the
step's outputs (sum of absolute values), so a flag that changes the function's float
rounding shows.

    python -m scripts.unf_step_xla_flags --hidden 32 --json docs/results/unf_step_xla_flags.json
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

#: ``name -> XLA_FLAGS``. The default uses YNNPACK for individual dots.
FLAG_SETS = {
    "default": "",
    "no YNNPACK (Eigen dots)": "--xla_cpu_experimental_ynn_fusion_type=",
    "YNNPACK dots + eltwise + reduce fusions":
        "--xla_cpu_experimental_ynn_fusion_type=individual_dot,dot,eltwise,reduce",
    "XNNPACK graph fusion, greedy":
        "--xla_cpu_experimental_xnn_graph_fusion_mode=XNN_GRAPH_FUSION_MODE_GREEDY",
    "concurrency-optimized scheduler off":
        "--xla_cpu_enable_concurrency_optimized_scheduler=false",
}

def child_measurement(hidden: int, repeats: int) -> dict:
    """In a fresh process: the UNF step's median time over ``repeats`` calls, XLA's FLOP
    count, a 2048² matmul's rate, the float32 sum of the first step's absolute outputs
    (``checksum``), the sha256 of three successive steps' outputs (``outputs_sha256``:
    the same hash, the same bits) and the minor page faults per timed call. The process's
    ``XLA_FLAGS`` are kept as it was started with them."""
    import hashlib
    import resource
    import time

    flags = os.environ.get("XLA_FLAGS")
    from scripts.unf_step_profile import unf_step  # sets its own trace flag: undo it

    if flags is None:
        os.environ.pop("XLA_FLAGS", None)
    else:
        os.environ["XLA_FLAGS"] = flags
    import jax
    import jax.numpy as jnp
    import numpy as np

    step, args = unf_step(hidden, 14, 10)
    compiled = step.update.lower(*args).compile()
    digest, checksum = hashlib.sha256(), None
    for _ in range(3):
        out = jax.block_until_ready(compiled(*args))
        if checksum is None:
            checksum = float(sum(jnp.sum(jnp.abs(x)) for x in jax.tree_util.tree_leaves(out)
                                 if jnp.issubdtype(x.dtype, jnp.floating)))
        for x in jax.tree_util.tree_leaves(out):
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
    return {"step_ms": 1000 * statistics.median(walls), "gflop": cost["flops"] / 1e9,
            "matmul_2048_gflop_per_s": 2 * 2048**3 / statistics.median(t) / 1e9,
            "checksum": checksum, "outputs_sha256": digest.hexdigest(),
            "faults_per_step": faults}


#: The child's program: :func:`child_measurement` of ``argv[1:3]``, one JSON line.
CHILD = ("import json, sys\n"
         "from scripts.unf_step_xla_flags import child_measurement\n"
         "print(json.dumps(child_measurement(int(sys.argv[1]), int(sys.argv[2]))))\n")



def run_once(flags: str, hidden: int, repeats: int) -> dict:
    """One fresh process's measurement under ``XLA_FLAGS=flags``, or ``{"error": line}``
    with the last line of its stderr if XLA failed (some flag sets fail at some shapes)."""
    env = {**os.environ, "XLA_FLAGS": flags, "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(hidden), str(repeats)],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return {"error": lines[-1][:300] if lines else f"exit code {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def step_summary(runs: list[dict]) -> dict:
    """Medians over one variant's processes (each a dict with ``step_ms``, ``gflop`` and
    ``matmul_2048_gflop_per_s``), and its step over its FLOP bound."""
    step = statistics.median(r["step_ms"] for r in runs)
    rate = statistics.median(r["matmul_2048_gflop_per_s"] for r in runs)
    gflop = runs[0]["gflop"]
    bound = gflop / rate * 1000
    return {"step_ms": round(step, 1), "step_ms_per_round": [round(r["step_ms"], 1)
                                                              for r in runs],
            "gflop": round(gflop, 3), "matmul_2048_gflop_per_s": round(rate, 1),
            "flop_bound_ms": round(bound, 1), "step_over_bound": round(step / bound, 2)}


def summarise(runs: list[dict]) -> dict:
    """:func:`step_summary` of a flag set's processes, with its output checksum."""
    return {**step_summary(runs), "checksum": runs[0]["checksum"]}


def interleaved(run, names, rounds: int) -> dict[str, list[dict]]:
    """``rounds`` rounds of ``run(name)`` for every name in turn, so that any load hits all
    variants alike; a variant whose run returned ``{"error": ...}`` is not run again."""
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            if not any("error" in r for r in runs[name]):
                runs[name].append(run(name))
    return runs


def versus(row: dict, base: dict, base_name: str, same: str, same_key: str) -> dict:
    """``row`` with its step as a ratio of ``base``'s (``step_vs_<base_name>``) and
    whether ``row[same_key] == base[same_key]`` (``same``)."""
    row[f"step_vs_{base_name}"] = round(row["step_ms"] / base["step_ms"], 2)
    row[same] = row[same_key] == base[same_key]
    return row


def write_document(args: argparse.Namespace, key: str, table: dict) -> dict:
    """The benchmark's JSON document (date, sizes, machine, ``key: table``), written to
    ``args.json`` if given."""
    result = {"date": date.today().isoformat(), "hidden": args.hidden, "batch": 10,
              "repeats": args.repeats, "rounds": args.rounds,
              "machine": f"{platform.processor() or platform.machine()}, "
                         f"{os.cpu_count()} cores", key: table}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    runs = interleaved(lambda name: run_once(FLAG_SETS[name], args.hidden, args.repeats),
                       list(FLAG_SETS), args.rounds)  # a failed set is not run again
    failed = {name: next(r["error"] for r in rs if "error" in r)
              for name, rs in runs.items() if any("error" in r for r in rs)}
    if "default" in failed:
        raise SystemExit(f"the default step failed: {failed['default']}")
    base = summarise(runs["default"])
    table = {}
    for name, flags in FLAG_SETS.items():
        if name in failed:
            table[name] = {"flags": flags, "error": failed[name]}
            print(f"{name:<42} failed: {failed[name]}")
            continue
        row = versus(summarise(runs[name]), base, "default", "same_outputs_as_default",
                     "checksum")
        table[name] = {**row, "flags": flags}
        print(f"{name:<42} {row['step_ms']:7.1f} ms  {row['step_vs_default']:.2f}x default"
              f"  {row['step_over_bound']:.2f}x bound  outputs "
              f"{'same' if row['same_outputs_as_default'] else 'differ'}")
    write_document(args, "flag_sets", table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
