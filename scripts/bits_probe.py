"""Where do two machines' floating-point bits part? Hash the result of each primitive a
zoo build or a predictor's training is made of, on fixed inputs.

Run it on two machines (or under two ``XLA_FLAGS`` settings on one) and diff the JSON:
an operation whose hash differs computes other bits there, one that agrees does not.
``docs/BENCHMARKS.md`` ("Where the bits part") holds what it found; the machine's
fingerprint (:func:`benchmarks.machine.machine_fingerprint`) is written beside the hashes.

    python -m scripts.bits_probe --out docs/bits/$(hostname).json
    XLA_FLAGS=--xla_cpu_max_isa=AVX2 python -m scripts.bits_probe
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path


def _digest(*arrays) -> str:
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a)).tobytes())
    return h.hexdigest()[:16]


def probes() -> dict:
    """``{name: hash}`` for every probe (each a pure function of fixed inputs)."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    key = jax.random.PRNGKey(0)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    out = {}
    for rows, inner, cols in ((10, 32, 96), (128, 128, 384), (512, 2048, 64),
                              (64, 16384, 8)):
        a = jax.random.normal(k1, (rows, inner), jnp.float32)
        b = jax.random.normal(k2, (inner, cols), jnp.float32)
        out[f"matmul {rows}x{inner}x{cols}"] = _digest(jax.jit(jnp.dot)(a, b))
    x = jax.random.normal(k3, (256, 4096), jnp.float32)
    out["sum all 1M"] = _digest(jax.jit(jnp.sum)(x))
    out["mean axis 0"] = _digest(jax.jit(lambda v: v.mean(0))(x))
    out["mean axis 1"] = _digest(jax.jit(lambda v: v.mean(1))(x))
    for name, fn in (("tanh", jnp.tanh), ("sigmoid", jax.nn.sigmoid), ("exp", jnp.exp),
                     ("log1p abs", lambda v: jnp.log1p(jnp.abs(v))),
                     ("sqrt abs", lambda v: jnp.sqrt(jnp.abs(v))),
                     ("softmax", lambda v: jax.nn.softmax(v, -1)),
                     ("logsumexp", lambda v: jax.nn.logsumexp(v, -1)),
                     ("divide", lambda v: v / (1.5 + v * v))):
        out[name] = _digest(jax.jit(fn)(x))

    cell = nn.GRUCell(features=32)
    inputs = jax.random.normal(k4, (64, 12), jnp.float32)
    carry = jnp.zeros((64, 32), jnp.float32)
    params = cell.init(k1, carry, inputs)

    def gru_loss(p):
        h = carry
        for _ in range(8):
            h, _ = cell.apply(p, h, inputs)
        return jnp.mean(h ** 2)

    grads = jax.jit(jax.grad(gru_loss))(params)
    out["gru 8 steps grad"] = _digest(*jax.tree_util.tree_leaves(grads))
    tx = optax.adam(1e-3)
    state = tx.init(params)
    updates, _ = jax.jit(tx.update)(grads, state, params)
    out["optax adam update"] = _digest(*jax.tree_util.tree_leaves(updates))

    mlp = nn.Sequential([nn.Dense(256), nn.relu, nn.Dense(256), nn.relu, nn.Dense(1)])
    batch = jax.random.normal(k2, (10, 2000), jnp.float32)
    target = jax.random.uniform(k3, (10, 1))
    mlp_params = mlp.init(k4, batch)
    state = tx.init(mlp_params)

    @jax.jit
    def train(p, s):
        def step(carry, _):
            p, s = carry
            loss, g = jax.value_and_grad(
                lambda q: optax.sigmoid_binary_cross_entropy(mlp.apply(q, batch),
                                                             target).mean())(p)
            u, s = tx.update(g, s, p)
            return (optax.apply_updates(p, u), s), loss
        return jax.lax.scan(step, (p, s), None, length=50)

    (trained, _), losses = train(mlp_params, state)
    out["mlp 50 adam steps"] = _digest(*jax.tree_util.tree_leaves(trained), losses)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args(argv)
    from benchmarks.machine import machine_fingerprint

    document = {"machine": machine_fingerprint(), "hashes": probes()}
    text = json.dumps(document, indent=2) + "\n"
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
