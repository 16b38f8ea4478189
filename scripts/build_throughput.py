"""Training throughput of the zoo builder against a plain matmul, measured in one run.

For each preset named and each of its batch sizes, the largest training group of that
batch size runs the compiled training program that ``tinyzoo build`` uses
(:func:`zoo_builder.train.train_group`'s chunked ``scan`` of ``vmap``-ed Adam steps)
for ``--steps`` steps after a warm-up call that compiles it (best of 3); with
``--workers 2``, two such groups train at once in two threads, as
``tinyzoo build --workers 2`` does. Reported per
preset, over the zoo's mix of batch sizes:

- model-steps per second (one Adam step of one model = one model-step);
- achieved GFLOP/s, counting the dense matmul FLOPs of the GRU seq2seq: per token of
  the question (``T_q = 2D+2``) and of the teacher-forced answer (``T_a = D+2``) one cell
  costs ``2 B (V + H) 3H`` (the three input and three hidden kernels), each answer token
  adds the readout ``2 B H V``, and forward+backward is counted as 3x the forward pass;
- the wall time the preset's whole zoo would take on this machine at that rate
  (``num_models * steps / rate``; evaluation, compilation and writing excluded).

The baseline is a plain float32 ``(n, n) @ (n, n)`` matmul jitted in JAX (default
``n = 2048``), timed in the same process; the ratio ``build GFLOP/s / matmul GFLOP/s``
says how much of the machine's dense-arithmetic rate the builder reaches.

    python -m scripts.build_throughput --presets mini,small --steps 50 --workers 1,2 \
        --json docs/results/build_throughput_cpu.json

``--max-models 125`` times one block of each group instead of the whole group (the
paper preset's groups of 1,000 models on a CPU). ``--block-sizes 100,50,25`` times other
block sizes than the preset's; run it with
``XLA_FLAGS=--xla_force_host_platform_device_count=2`` to time 2 host devices.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np

from zoo_builder.programs import block_size, group_programs
from zoo_builder.train import model_key
from zoo_data.archive.layout import training_groups
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import ZooConfig, get_preset, problem_sets
from zoo_data.rnn.task import VOCAB_SIZE


def forward_backward_flops(config: ZooConfig, batch_size: int) -> float:
    """Dense matmul FLOPs of one model-step (see the module docstring)."""
    h, v, d = config.hidden, VOCAB_SIZE, config.max_digits
    t_q, t_a = 2 * d + 2, d + 2
    cell = 2 * batch_size * (v + h) * 3 * h
    forward = (t_q + t_a) * cell + t_a * 2 * batch_size * h * v
    return 3.0 * forward


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a jitted float32 ``(n, n) @ (n, n)`` (best of ``repeats``)."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n), jnp.float32)
    f = jax.jit(jnp.dot)
    f(a, b).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def group_throughput(config: ZooConfig, batch_size: int, steps: int, workers: int = 1,
                     repeats: int = 3, max_models: int | None = None) -> dict:
    """Time ``steps`` training steps of the zoo's first full group of ``batch_size``
    (best of ``repeats`` calls after a compiling one), or of its first ``max_models``
    models (at least one block's worth is sensible: the program is the same)."""
    groups = [g for g in training_groups(config) if g.batch_size == batch_size]
    group = max(groups, key=lambda g: len(g.model_ids))
    if max_models is not None:
        group = dataclasses.replace(group, model_ids=group.model_ids[:max_models])
    _, pool = problem_sets(config)
    programs = group_programs(config, batch_size)
    ids = group.model_ids
    keys = np.stack([np.asarray(model_key(config, i)) for i in ids])
    lrs = programs.to_blocks(np.asarray([model_hparams(config, i).learning_rate for i in ids],
                                        np.float32))
    pool_arrays = [jnp.asarray(a, jnp.int32) for a in (pool.question, pool.decoder_input,
                                                         pool.answer)]
    params, opt = programs.init(keys)
    keys = programs.to_blocks(keys)
    train_chunk = programs.train_chunk
    t0 = time.perf_counter()
    jax.block_until_ready(train_chunk(params, opt, lrs, keys, 0, *pool_arrays, {}, length=steps))
    first_call = time.perf_counter() - t0
    def run(start: int) -> None:
        out = train_chunk(params, opt, lrs, keys, start, *pool_arrays, {}, length=steps)
        jax.block_until_ready(out)

    best = float("inf")
    for r in range(repeats):
        t0 = time.perf_counter()
        threads = [threading.Thread(target=run, args=(steps * (r + 1) + w,))
                   for w in range(workers)]  # as `tinyzoo build --workers`: groups at once
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        best = min(best, time.perf_counter() - t0)
    rate = workers * steps * len(group.model_ids) / best
    flops = forward_backward_flops(config, batch_size)
    return {
        "batch_size": batch_size,
        "workers": workers,
        "group_size": len(group.model_ids),
        "block_size": programs.block,
        "devices": programs.num_devices,
        "steps_timed": steps,
        "seconds": best,
        "compile_and_first_call_s": first_call,
        "model_steps_per_s": rate,
        "gflops": rate * flops / 1e9,
    }


def preset_throughput(config: ZooConfig, steps: int, workers: int, baseline: float,
                      max_models: int | None = None) -> dict:
    """Throughput of every batch size of ``config`` and of the whole zoo: the zoo's
    training time is the sum over its models of ``steps / rate(batch size)``."""
    rows = [group_throughput(config, bs, steps, workers, max_models=max_models)
            for bs in config.batch_sizes]
    by_batch = {r["batch_size"]: r for r in rows}
    counts = {bs: 0 for bs in config.batch_sizes}
    for g in training_groups(config):
        counts[g.batch_size] += len(g.model_ids)
    seconds = sum(counts[bs] * config.steps / by_batch[bs]["model_steps_per_s"]
                  for bs in counts)
    flops = sum(counts[bs] * config.steps * forward_backward_flops(config, bs) for bs in counts)
    model_steps = config.num_models * config.steps
    return {
        "preset": config.preset,
        "workers": workers,
        "hidden": config.hidden,
        "max_digits": config.max_digits,
        "by_batch_size": rows,
        "model_steps_per_s": model_steps / seconds,
        "gflops": flops / seconds / 1e9,
        "ratio_to_matmul": flops / seconds / 1e9 / baseline,
        "zoo_model_steps": model_steps,
        "zoo_training_hours_at_this_rate": seconds / 3600,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="small,paper")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--matmul-n", type=int, default=2048)
    parser.add_argument("--workers", default="1",
                        help="comma-separated worker counts to time (groups trained at once)")
    parser.add_argument("--block-sizes", default="",
                        help="comma-separated block sizes to time instead of the preset's")
    parser.add_argument("--max-models", type=int,
                        help="time only the first N models of each group (e.g. one block "
                        "of the paper preset's groups of 1,000 on a CPU)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)

    baseline = matmul_gflops(args.matmul_n)
    rows = []
    for name in args.presets.split(","):
        preset = get_preset(name)
        blocks = [int(b) for b in args.block_sizes.split(",") if b] or [preset.block_size]
        for block in blocks:
            config = dataclasses.replace(preset, block_size=block)
            for workers in (int(w) for w in args.workers.split(",")):
                row = preset_throughput(config, args.steps, workers, baseline,
                                        args.max_models)
                rows.append(row | {"block_size": block_size(config)})
    baseline_after = matmul_gflops(args.matmul_n)  # the machine did not change meanwhile
    result = {
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
            "device": str(jax.devices()[0]),
            "device_count": jax.device_count(),
        },
        "matmul_n": args.matmul_n,
        "max_models": args.max_models,
        "matmul_gflops": baseline,
        "matmul_gflops_after": baseline_after,
        "presets": rows,
    }
    print(f"plain {args.matmul_n}^2 float32 matmul: {baseline:.1f} GFLOP/s "
          f"(again after: {baseline_after:.1f})")
    for r in rows:
        per_batch = ", ".join(f"batch {b['batch_size']}: {b['model_steps_per_s']:.0f}"
                              for b in r["by_batch_size"])
        print(
            f"{r['preset']:>6} x{r['workers']} block {r['block_size']}, "
            f"{jax.device_count()} device(s): H={r['hidden']} D={r['max_digits']}: "
            f"{r['model_steps_per_s']:.0f} model-steps/s ({per_batch}), {r['gflops']:.1f} "
            f"GFLOP/s = {r['ratio_to_matmul']:.2f} x matmul; whole zoo "
            f"{r['zoo_training_hours_at_this_rate']:.2f} h of training"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
