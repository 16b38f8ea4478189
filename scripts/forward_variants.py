"""Training-step speed of arrangements of the seq2seq GRU forward pass, in one run.

Every variant computes the same function (flax's ``Seq2Seq``) on the same ``params``
tree; they differ only in how the matmuls are arranged:

- ``flax``: :class:`zoo_data.rnn.model.Seq2Seq` through ``apply`` (six matmuls per cell
  step);
- ``fused``: :func:`zoo_builder.fused.fused_logits`, what the builder trains with (the
  three hidden kernels as one ``(H, 3H)`` matmul per step);
- ``fused-x``: ``fused`` plus the three input kernels as one ``(V, 3H)`` matmul per step;
- ``hoisted``: ``fused`` with every step's input projection computed before the
  recurrence in one ``(B T, V) @ (V, 3H)`` matmul.

A fifth row, ``dots-only``, is a bound rather than a variant: the same model-steps with
only the recurrent matmul chain of the forward pass, ``h <- (h @ W_h)[:, :H]`` per
token of both cells (``W_h`` of shape ``(H, 3H)``), no gates, no input projections, no
backward pass; its GFLOP/s (counting ``2 B H 3H`` per token) is the rate XLA reaches on
matmuls of these shapes, batched over models, and so bounds what any arrangement of the
GRU step can reach here.

Each is timed as the builder runs it: a jit-compiled ``scan`` of ``--steps`` Adam steps,
``vmap``-ed over ``--models`` models that each draw their own batch (best of 3 calls after
a compiling one). FLOPs are counted as in :mod:`scripts.build_throughput`, and a plain
float32 matmul is timed in the same process as the baseline.

    python -m scripts.forward_variants --hidden 32 --digits 2 --batch 128 --models 25
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import jax
import jax.numpy as jnp

from scripts.build_throughput import forward_backward_flops, matmul_gflops
from zoo_builder.adam import adam_init, adam_update
from zoo_builder.fused import fused_logits
from zoo_builder.objective import flax_logits, sequence_loss
from zoo_data.rnn.model import Seq2Seq, init_params
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.task import VOCAB_SIZE, make_problem_sets


def _cell_variant(cell: dict, h: jnp.ndarray, inputs: jnp.ndarray, fuse_x: bool,
                  hoist: bool) -> list:
    """The GRU cell of :mod:`zoo_builder.fused` with the input kernels fused per step
    (``fuse_x``) or all input projections computed before the recurrence (``hoist``)."""
    hidden = h.shape[-1]
    w_h = jnp.concatenate([cell[g]["kernel"] for g in ("hr", "hz", "hn")], axis=1)
    w_x = jnp.concatenate([cell[g]["kernel"] for g in ("ir", "iz", "in")], axis=1)
    b_x = jnp.concatenate([cell[g]["bias"] for g in ("ir", "iz", "in")])
    batch, steps, vocab = inputs.shape
    if hoist:
        gx_all = (inputs.reshape(batch * steps, vocab) @ w_x + b_x).reshape(batch, steps, -1)
    states = []
    for t in range(steps):
        gx = gx_all[:, t] if hoist else inputs[:, t] @ w_x + b_x
        gh = h @ w_h
        r = jax.nn.sigmoid(gx[:, :hidden] + gh[:, :hidden])
        z = jax.nn.sigmoid(gx[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        n = jnp.tanh(gx[:, 2 * hidden:] + r * (gh[:, 2 * hidden:] + cell["hn"]["bias"]))
        h = (1.0 - z) * n + z * h
        states.append(h)
    return states


def variant_logits(fuse_x: bool, hoist: bool):
    """A ``logits_fn`` for the ``fused-x`` or ``hoisted`` variant."""
    def logits(params, question, decoder_inputs):
        enc, dec = params["GRUCell_0"], params["DecoderGRUCell_0"]
        h0 = jnp.zeros((question.shape[0], enc["hr"]["kernel"].shape[0]), question.dtype)
        h = _cell_variant(enc, h0, question, fuse_x, hoist)[-1]
        states = _cell_variant(dec["GRUCell_0"], h, decoder_inputs, fuse_x, hoist)
        dense = dec["Dense_0"]
        return jnp.stack([s @ dense["kernel"] + dense["bias"] for s in states], axis=1)
    return logits


def best_of_3(fn, *args) -> float:
    """Seconds of the fastest of 3 calls ``fn(*args)`` after a first (compiling) one."""
    jax.block_until_ready(fn(*args))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return best


def time_variant(logits_fn, hidden: int, digits: int, batch: int, models: int,
                 steps: int) -> float:
    """Seconds for ``steps`` vmapped Adam steps of ``models`` models (best of 3)."""
    test, _ = make_problem_sets(0, digits, batch * models, 10)
    q, d, a = (jnp.asarray(x, jnp.int32).reshape(models, batch, -1)
               for x in (test.question, test.decoder_input, test.answer))
    singles = [init_params(hidden, VOCAB_SIZE, jax.random.PRNGKey(i))["params"]
               for i in range(models)]
    params = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *singles)
    state = jax.vmap(adam_init)(params)

    def step(p, s, q, d, a):
        grads = jax.grad(sequence_loss, argnums=1)(logits_fn, p, q, d, a)
        return adam_update(grads, s, p, 1e-3)

    @jax.jit
    def run(p, s):
        def body(carry, _):
            return jax.vmap(step)(*carry, q, d, a), None
        return jax.lax.scan(body, (p, s), None, length=steps)[0]

    return best_of_3(run, params, state)


def time_dots_only(hidden: int, digits: int, batch: int, models: int, steps: int) -> tuple:
    """(seconds, FLOPs) of ``steps`` x ``models`` runs of the matmul chain (module
    docstring), best of 3 after a compiling call."""
    tokens = 3 * digits + 4
    w = jax.random.normal(jax.random.PRNGKey(0), (models, hidden, 3 * hidden)) / hidden
    h0 = jax.random.normal(jax.random.PRNGKey(1), (models, batch, hidden))

    @jax.jit
    def run(h, w):
        def body(h, _):
            for _ in range(tokens):
                h = jnp.einsum("mbh,mhk->mbk", h, w)[..., :hidden]
            return h, None
        return jax.lax.scan(body, h, None, length=steps)[0]

    return best_of_3(run, h0, w), 2.0 * batch * hidden * 3 * hidden * tokens


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--digits", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--models", type=int, default=25)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--variants", default="flax,fused,fused-x,hoisted,dots-only")
    parser.add_argument("--json", help="append the result here as one JSON line")
    args = parser.parse_args(argv)
    model = Seq2Seq(hidden=args.hidden, vocab=VOCAB_SIZE)
    variants = {"flax": flax_logits(model), "fused": fused_logits,
                "fused-x": variant_logits(True, False), "hoisted": variant_logits(False, True)}
    shape = ZooConfig("shape", 1, args.hidden, args.digits, 1, 1, 1, 1)
    flops = forward_backward_flops(shape, args.batch)
    baseline = matmul_gflops()
    rows = []
    for name in args.variants.split(","):
        if name == "dots-only":
            seconds, chain_flops = time_dots_only(args.hidden, args.digits, args.batch,
                                                  args.models, args.steps)
            rate = args.models * args.steps / seconds
            rows.append({"variant": name, "model_steps_per_s": rate,
                         "gflops": rate * chain_flops / 1e9})
            continue
        seconds = time_variant(variants[name], args.hidden, args.digits, args.batch,
                               args.models, args.steps)
        rate = args.models * args.steps / seconds
        rows.append({"variant": name, "model_steps_per_s": rate,
                     "gflops": rate * flops / 1e9})
    base = rows[0]["model_steps_per_s"]
    print(f"H={args.hidden} D={args.digits} B={args.batch}, {args.models} models; "
          f"matmul {baseline:.0f} GFLOP/s")
    for r in rows:
        r["vs_first"] = r["model_steps_per_s"] / base
        r["ratio_to_matmul"] = r["gflops"] / baseline
        print(f"  {r['variant']:8s} {r['model_steps_per_s']:8.0f} model-steps/s "
              f"{r['gflops']:6.1f} GFLOP/s  {r['vs_first']:.2f}x {rows[0]['variant']}  "
              f"{r['ratio_to_matmul']:.2f}x matmul")
    if args.json:
        record = {**vars(args), "matmul_gflops": baseline, "rows": rows,
                  "jax": jax.__version__, "machine": platform.machine(),
                  "backend": jax.default_backend(), "cpu_count": os.cpu_count(),
                  "date": time.strftime("%Y-%m-%d")}
        with open(args.json, "a") as f:
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
