"""Benchmark: the UNF step's dot floor, what its own matrix products cost at XLA's rate.

Issue 31 asks for the UNF training step at most 1.5x its FLOP bound (the step's FLOPs at
the rate of a 2048² float32 matmul). The profile (:mod:`scripts.unf_step_profile`) found
the step's dots alone at about 2.4x that bound. Is that the dots' arrangement in the
step, or the rate XLA's CPU backend reaches on their shapes at all?

This script lists every ``dot_general`` of the step's jaxpr (forward, backward and the
head; found recursively through ``pjit`` and custom-derivative calls), groups equal
signatures (operand shapes and dimension numbers), and times each signature alone, as
its own compiled program on random operands already on the device, in two forms:

- ``as_is``: the dot exactly as the step states it (operand layouts included);
- ``canonical``: the same product with operands pre-arranged as ``(batch, M, K)`` and
  ``(batch, K, N)``, the layout a GEMM library prefers (the rearranging is not timed).

Each time is net of a call's dispatch (a call that reads one element of each operand,
timed alike), which the step pays once, not per dot. The **dot floor** is
``sum_signatures count * min(as_is, canonical)``: the time the step's products take even
if every other op were free and every dot ran alone at the best of the two layouts.
Beside it, in the same process and interleaved: the step itself, XLA's FLOP count of the
step, and the 2048² matmul rate, so

    bound = step FLOPs / matmul rate,   floor / bound,   step / bound.

A floor above 1.5x the bound means no rearrangement of the step's other ops can meet
the target with these products on this CPU. And a roofline, per dot

    roofline = max(FLOPs / matmul rate, bytes moved / copy bandwidth)

(bytes moved: both operands read once, the output written once; copy bandwidth: a
256 MB array scaled by 2, read and written, measured beside the rest), says which of the
products are bound by memory rather than arithmetic: for those, no GEMM library can do
better than the bytes they touch.

    python -m scripts.unf_step_dot_floor --hidden 32 128 --json docs/results/unf_step_dot_floor.json
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["DotSignature", "canonical_operands", "dot_bytes", "dot_floor", "dot_flops",
           "dot_signatures", "roofline_ms"]

DotSignature = tuple  # (lhs_shape, rhs_shape, ((lc, rc), (lb, rb)))


def _sub_jaxprs(eqn) -> list:
    """The jaxprs nested in ``eqn``'s parameters (``pjit``, ``custom_jvp_call``, ...)."""
    found = []
    for value in eqn.params.values():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(v, jax.extend.core.ClosedJaxpr):
                found.append(v.jaxpr)
            elif isinstance(v, jax.extend.core.Jaxpr):
                found.append(v)
    return found


def dot_signatures(jaxpr) -> collections.Counter:
    """``signature -> count`` of every ``dot_general`` in ``jaxpr`` (a ``ClosedJaxpr`` or
    ``Jaxpr``), nested calls included. A signature is ``(lhs_shape, rhs_shape,
    dimension_numbers)`` with every dimension number a tuple."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    counts: collections.Counter = collections.Counter()
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "dot_general":
            (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
            counts[(tuple(eqn.invars[0].aval.shape), tuple(eqn.invars[1].aval.shape),
                    ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb))))] += 1
        for sub in _sub_jaxprs(eqn):
            counts.update(dot_signatures(sub))
    return counts


def dot_flops(sig: DotSignature) -> int:
    """``2 * batch * M * N * K`` of a signature."""
    lhs, rhs, ((lc, rc), (lb, rb)) = sig
    k = math.prod(lhs[a] for a in lc)
    b = math.prod(lhs[a] for a in lb)
    m = math.prod(lhs) // (k * b)
    n = math.prod(rhs) // (math.prod(rhs[a] for a in rc) * b)
    return 2 * b * m * n * k


def dot_bytes(sig: DotSignature) -> int:
    """Bytes a float32 dot must at least move: both operands read, its output written."""
    lhs, rhs, ((lc, _), (lb, _)) = sig
    out = dot_flops(sig) // (2 * math.prod(lhs[a] for a in lc))
    return 4 * (math.prod(lhs) + math.prod(rhs) + out)


def canonical_operands(sig: DotSignature, lhs: np.ndarray, rhs: np.ndarray):
    """``lhs, rhs`` of ``sig`` rearranged to ``(batch, M, K)`` and ``(batch, K, N)``,
    whose batched matmul is the signature's product (its free axes flattened)."""
    _, _, ((lc, rc), (lb, rb)) = sig
    lf = [a for a in range(lhs.ndim) if a not in lc and a not in lb]
    rf = [a for a in range(rhs.ndim) if a not in rc and a not in rb]
    b = math.prod(lhs.shape[a] for a in lb)
    k = math.prod(lhs.shape[a] for a in lc)
    a2 = np.transpose(lhs, (*lb, *lf, *lc)).reshape(b, -1, k)
    b2 = np.transpose(rhs, (*rb, *rc, *rf)).reshape(b, k, -1)
    return np.ascontiguousarray(a2), np.ascontiguousarray(b2)


def _median_time(fn, args, repeats: int) -> float:
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@jax.jit
def _touch(a, b):
    return a[(0,) * a.ndim] + b[(0,) * b.ndim]


def dot_floor(signatures: collections.Counter, repeats: int, seed: int = 0) -> list[dict]:
    """Time every signature alone in both forms (module docstring); one row each. Each
    time is net of a call's dispatch: the median of a compiled call that reads one element
    of each operand is subtracted, since the step pays dispatch once, not per dot."""
    rng = np.random.default_rng(seed)
    rows = []
    for sig, count in signatures.items():
        lhs_shape, rhs_shape, dn = sig
        lhs = rng.standard_normal(lhs_shape, dtype=np.float32)
        rhs = rng.standard_normal(rhs_shape, dtype=np.float32)
        a2, b2 = canonical_operands(sig, lhs, rhs)
        lhs, rhs, a2, b2 = (jax.device_put(x) for x in (lhs, rhs, a2, b2))
        as_is = jax.jit(lambda a, b, dn=dn: lax.dot_general(a, b, dn))
        canonical = jax.jit(lambda a, b: jnp.matmul(a, b))
        # dot_general's output is (*batch, *lhs free, *rhs free): canonical's (b, M, N)
        np.testing.assert_allclose(np.asarray(as_is(lhs, rhs)).reshape(a2.shape[0], -1),
                                   np.asarray(canonical(a2, b2)).reshape(a2.shape[0], -1),
                                   rtol=1e-4, atol=1e-3 * math.sqrt(a2.shape[-1]))
        # what a call costs that reads one element of each operand: dispatch, not work
        t_call = _median_time(_touch, (lhs, rhs), repeats)
        t_as_is = max(_median_time(as_is, (lhs, rhs), repeats) - t_call, 1e-7)
        t_canon = max(_median_time(canonical, (a2, b2), repeats) - t_call, 1e-7)
        flops = dot_flops(sig)
        rows.append({"lhs": list(lhs_shape), "rhs": list(rhs_shape),
                     "dimension_numbers": [[list(x) for x in p] for p in dn],
                     "count": count, "gflop": flops / 1e9, "gbytes": dot_bytes(sig) / 1e9,
                     "call_ms": 1e3 * t_call, "as_is_ms": 1e3 * t_as_is,
                     "canonical_ms": 1e3 * t_canon,
                     "best_gflop_per_s": flops / min(t_as_is, t_canon) / 1e9})
    return rows


def roofline_ms(row: dict, gflop_per_s: float, gbyte_per_s: float) -> float:
    """A dot's least time on this machine: ``max(FLOPs / matmul rate, bytes / copy
    bandwidth)``, milliseconds (the roofline model)."""
    return 1e3 * max(row["gflop"] / gflop_per_s, row["gbytes"] / gbyte_per_s)


def measure(hidden: int, repeats: int) -> dict:
    from scripts.unf_step_profile import unf_step

    step, args = unf_step(hidden, 14, 10)
    signatures = dot_signatures(jax.make_jaxpr(step.update)(*args))
    compiled = step.update.lower(*args).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    flops = cost.get("flops", 0.0)
    a = jnp.ones((2048, 2048), jnp.float32)
    matmul = jax.jit(lambda m: m @ m)
    big = jnp.ones((2**26,), jnp.float32)  # 256 MB: far beyond any cache
    scale = jax.jit(lambda x: x * 2.0)
    walls, rates, bandwidths = [], [], []
    for _ in range(3):  # step, matmul, copy and the dots interleaved: load hits all alike
        walls.append(_median_time(compiled, args, repeats))
        rates.append(2 * 2048**3 / _median_time(matmul, (a,), repeats) / 1e9)
        bandwidths.append(2 * big.nbytes / _median_time(scale, (big,), repeats) / 1e9)
    rows = dot_floor(signatures, repeats)
    rates.append(2 * 2048**3 / _median_time(matmul, (a,), repeats) / 1e9)
    rate, wall = statistics.median(rates), statistics.median(walls)
    bandwidth = statistics.median(bandwidths)
    for r in rows:
        r["roofline_ms"] = roofline_ms(r, rate, bandwidth)
    roof_ms = sum(r["count"] * r["roofline_ms"] for r in rows)
    bound_ms = flops / rate / 1e6
    floor_ms = sum(r["count"] * min(r["as_is_ms"], r["canonical_ms"]) for r in rows)
    as_is_ms = sum(r["count"] * r["as_is_ms"] for r in rows)
    dot_gflop = sum(r["count"] * r["gflop"] for r in rows)
    rows.sort(key=lambda r: -r["count"] * min(r["as_is_ms"], r["canonical_ms"]))
    return {
        "hidden": hidden, "batch": 10, "repeats": repeats,
        "step_ms": round(1e3 * wall, 2), "step_gflop": round(flops / 1e9, 4),
        "dot_gflop": round(dot_gflop, 4), "dots": sum(r["count"] for r in rows),
        "signatures": len(rows), "matmul_2048_gflop_per_s": round(rate, 1),
        "flop_bound_ms": round(bound_ms, 2), "step_over_bound": round(1e3 * wall / bound_ms, 2),
        "dots_as_is_ms": round(as_is_ms, 2), "dot_floor_ms": round(floor_ms, 2),
        "dot_floor_over_bound": round(floor_ms / bound_ms, 2),
        "dot_floor_gflop_per_s": round(dot_gflop / floor_ms * 1e3, 1),
        "copy_gbyte_per_s": round(bandwidth, 1), "dot_roofline_ms": round(roof_ms, 2),
        "dot_roofline_over_bound": round(roof_ms / bound_ms, 2),
        "top": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                for r in rows[:12]],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    result = {"date": date.today().isoformat(),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "jax": jax.__version__,
              "results": [measure(h, args.repeats) for h in args.hidden]}
    for r in result["results"]:
        print(f"hidden {r['hidden']}: step {r['step_ms']} ms = {r['step_over_bound']}x its FLOP "
              f"bound {r['flop_bound_ms']} ms ({r['step_gflop']} GFLOP at "
              f"{r['matmul_2048_gflop_per_s']} GFLOP/s); {r['dots']} dots "
              f"({r['signatures']} signatures, {r['dot_gflop']} GFLOP): alone as stated "
              f"{r['dots_as_is_ms']} ms, floor {r['dot_floor_ms']} ms = "
              f"{r['dot_floor_over_bound']}x the bound ({r['dot_floor_gflop_per_s']} GFLOP/s); "
              f"their roofline at {r['copy_gbyte_per_s']} GB/s copy bandwidth "
              f"{r['dot_roofline_ms']} ms = {r['dot_roofline_over_bound']}x the bound")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
