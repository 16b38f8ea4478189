"""Profile: where one UNF predictor training step spends its time, op by op.

Compiles the protocol's Adam step of the UNF predictor (batch 10, synthetic models of the
zoo's weight space at hidden ``--hidden``), runs it ``--repeats`` times under
``jax.profiler`` with XLA's per-op trace events switched on
(``--xla_cpu_enable_xprof_traceme``), and attributes the time of every op of the
compiled program to one of:

- ``matmul``: dots (XLA CPU's ``ynn_fusion`` custom fusions and plain ``dot``);
- ``concatenate``: concatenations (the ``[X, X^T]`` inputs of the dense groups, ...);
- ``transpose/copy``: transposes and layout copies (a dot's operand in another layout);
- ``elementwise/reduce``: XLA loop fusions (ReLU and its mask, broadcasts and adds of
  the basis terms, reductions, Adam).

For each: milliseconds per step, number of ops, and megabytes written (the ops' output
shapes). Beside them, in the same process: XLA's FLOP count for the step, the rate of a
2048² float32 matmul, and so the step's FLOP bound ``flops / rate`` and the implied
epoch time on ``--train-models`` models.

Op times are summed per op; XLA's CPU runtime may run independent ops concurrently on
the cores, so the sum can exceed the step's wall time (the ``wall_ms`` field).

    python -m scripts.unf_step_profile --json docs/results/unf_step_profile.json
"""

from __future__ import annotations

import os

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                           + " --xla_cpu_enable_xprof_traceme=true").strip()

import argparse  # noqa: E402
import collections  # noqa: E402
import glob  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

CATEGORIES = ("matmul", "concatenate", "transpose/copy", "elementwise/reduce")
_DEF = re.compile(r"\s*(?:ROOT )?%?([\w.\-]+) = (\w+)\[([\d,]*)\]")


def categorise(name: str, line: str) -> str:
    """The category of the compiled op ``name`` whose HLO definition is ``line``."""
    if "ynn_fusion" in name or " dot(" in line or "__onednn$matmul" in line:
        return "matmul"
    if name.startswith("concatenate"):
        return "concatenate"
    if "copy" in name or "transpose" in name:
        return "transpose/copy"
    return "elementwise/reduce"


def entry_ops(hlo_text: str) -> dict[str, tuple[str, int]]:
    """``name -> (HLO definition, bytes of its output)`` for the entry computation's ops."""
    entry = hlo_text[hlo_text.index("ENTRY"):]
    ops = {}
    width = {"f32": 4, "s32": 4, "f16": 2, "bf16": 2, "pred": 1, "f64": 8, "s64": 8, "u32": 4}
    for line in entry.splitlines()[1:]:
        m = _DEF.match(line)
        if m:
            size = width.get(m.group(2), 4)
            for d in filter(None, m.group(3).split(",")):
                size *= int(d)
            ops[m.group(1)] = (line.strip(), size)
    return ops


def op_times(fn, args, repeats: int) -> dict[str, float]:
    """Mean microseconds per call of every traced event name over ``repeats`` calls."""
    with tempfile.TemporaryDirectory() as d:
        with jax.profiler.trace(d, create_perfetto_trace=True):
            for _ in range(repeats):
                jax.block_until_ready(fn(*args))
        files = glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)
        if not files:
            raise SystemExit("jax.profiler wrote no trace: is the profiler available?")
        with gzip.open(files[0]) as f:
            events = json.load(f)
    events = events["traceEvents"] if isinstance(events, dict) else events
    total: collections.Counter = collections.Counter()
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            total[e["name"]] += e["dur"]
    return {name: t / repeats for name, t in total.items()}


def unf_step(hidden: int, vocab: int, batch: int):
    """The protocol's compiled UNF step and its arguments on synthetic models."""
    import optax

    from benchmarks.training_step import training_programs
    from predictors.registry import BUILTINS
    from zoo_data.rnn.model import init_params
    from zoo_data.rnn.spec import seq2seq_spec

    spec = seq2seq_spec()
    models = [init_params(hidden, vocab, jax.random.PRNGKey(s))["params"] for s in range(batch)]
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(x) for x in a])[..., None],
                                    *models)
    sr = np.linspace(0.05, 0.95, batch).astype(np.float32)
    predictor = BUILTINS["unf"]()
    module = predictor.module(spec)
    _, _, step = training_programs(predictor, module, 1e-3)
    feats = predictor.features(params, spec)
    variables = module.init(jax.random.PRNGKey(0), feats)
    return step, (variables, optax.adam(1e-3).init(variables), feats, sr)


def profile(hidden: int, vocab: int, batch: int, repeats: int, train_models: int) -> dict:
    step, args = unf_step(hidden, vocab, batch)
    compiled = step.update.lower(*args).compile()  # AdamStep.update is the jitted step
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    ops = entry_ops(compiled.as_text())
    jax.block_until_ready(compiled(*args))
    a = jnp.ones((2048, 2048), jnp.float32)
    matmul = jax.jit(lambda m: m @ m)
    jax.block_until_ready(matmul(a))
    walls, mm = [], []
    for _ in range(repeats):  # interleaved, so that any load hits both alike
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        walls.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        jax.block_until_ready(matmul(a))
        mm.append(time.perf_counter() - t0)
    times = op_times(compiled, args, repeats)
    table = {c: {"ms": 0.0, "ops": 0, "mb_written": 0.0} for c in CATEGORIES}
    top = []
    for name, us in times.items():
        if name not in ops:
            continue  # runtime events (executor, host calls), not ops of the program
        line, size = ops[name]
        c = categorise(name, line)
        table[c]["ms"] += us / 1000
        table[c]["ops"] += 1
        table[c]["mb_written"] += size / 1e6
        top.append((us / 1000, name, c, size / 1e6))
    if not top:
        raise SystemExit("no per-op trace events: XLA's CPU backend was started before this "
                         "module set --xla_cpu_enable_xprof_traceme (run it as a script)")
    for row in table.values():
        row["ms"], row["mb_written"] = round(row["ms"], 1), round(row["mb_written"], 1)
    wall = statistics.median(walls)
    rate = 2 * 2048**3 / statistics.median(mm) / 1e9
    flops = cost.get("flops", 0.0)
    steps = math.ceil(train_models / batch)
    return {
        "hidden": hidden, "vocab": vocab, "batch": batch, "repeats": repeats,
        "wall_ms": round(1000 * wall, 1),
        "ops_sum_ms": round(sum(r["ms"] for r in table.values()), 1),
        "categories": table,
        "top_ops": [{"ms": round(ms, 1), "op": n, "category": c, "mb_written": round(mb, 1)}
                    for ms, n, c, mb in sorted(top, reverse=True)[:12]],
        "gflop": round(flops / 1e9, 4),
        "gbytes_accessed": round(cost.get("bytes accessed", 0.0) / 1e9, 2),
        "matmul_2048_gflop_per_s": round(rate, 1),
        "flop_bound_ms": round(flops / rate / 1e6, 1),
        "wall_over_flop_bound": round(wall / (flops / rate / 1e9), 2),
        "matmul_ops_gflop_per_s": round(flops / 1e9 / (table["matmul"]["ms"] / 1000), 1)
        if table["matmul"]["ms"] else None,
        "train_models": train_models,
        "epoch_min": round(steps * wall / 60, 2),
        "epoch_min_at_flop_bound": round(steps * flops / rate / 1e9 / 60, 2),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 32])
    parser.add_argument("--vocab", type=int, default=14)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-models", type=int, default=8000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    result = {"date": date.today().isoformat(),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "jax": jax.__version__,
              "profiles": [profile(h, args.vocab, args.batch, args.repeats, args.train_models)
                           for h in args.hidden]}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
