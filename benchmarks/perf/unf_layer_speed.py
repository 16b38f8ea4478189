"""Benchmark: one UNF layer on the Tiny RNN Zoo's weight space, ours vs the reference.

Times forward + backward (gradient of a scalar loss with respect to the layer's
parameters and its input) of a ``c -> c`` channel layer on the seq2seq GRU weight space
(22 tensors, 2,058 basis terms), batch 10, jit-compiled, median over repeats.

The reference is the paper's public layer library (AllanYangZhou/universal_neural_functional),
run from a local checkout given by ``--reference``; its code is imported at run time
only and is not part of this repository. In the same run the script checks that both
layers have the same basis (terms and parameter count) and, on a small weight space,
that they compute the same function once our coefficients are set to the reference's.

    python -m benchmarks.perf.unf_layer_speed --reference /path/to/universal_neural_functional
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from predictors.unf import UNFLayer, count_basis_terms
from predictors.unf.plan import layer_plan
from predictors.unf.spec import match_spec
from zoo_data.model import init_params
from zoo_data.spec import seq2seq_spec


def gru_features(hidden: int, vocab: int, batch: int, channels: int, seed: int = 0):
    """Random ``(batch, *shape, channels)`` features on the zoo's weight space."""
    params = init_params(hidden, vocab, jax.random.PRNGKey(seed))["params"]
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map(
        lambda p: jnp.asarray(rng.normal(size=(batch, *p.shape, channels)), jnp.float32), params
    )


def _time(fn, *args, repeats: int) -> tuple[float, float]:
    """(first call incl. compilation, median of ``repeats`` later calls), in seconds."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def _fwd_bwd(apply):
    def loss(variables, x):
        out = apply(variables, x)
        return sum(jnp.mean(jnp.square(v)) for v in jax.tree_util.tree_leaves(out))

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def _n_params(variables) -> int:
    return sum(int(v.size) for v in jax.tree_util.tree_leaves(variables))


def load_reference(path: Path):
    """Import the reference's ``layers`` and ``algorithm`` modules from a checkout."""
    if not (path / "layers.py").is_file():
        raise SystemExit(f"--reference {path}: no layers.py there (a checkout of the reference?)")
    sys.path.insert(0, str(path))
    return importlib.import_module("layers"), importlib.import_module("algorithm")


def ours_layer(channels_out: int):
    return UNFLayer(seq2seq_spec(), channels_out)


def reference_layer(ref_layers, c_out: int, c_in: int):
    """The reference's batched layer with the spec bound, called like ours."""
    spec = seq2seq_spec()
    layer = ref_layers.BatchUNFLayer(c_out, c_in)

    class Bound:
        def init(self, key, x):
            return layer.init(key, x, spec)

        def apply(self, variables, x):
            return layer.apply(variables, x, spec)

    return Bound()


def match_coefficients(ref_algorithm, ours_vars, ref_vars, x) -> dict:
    """Our variables with every basis coefficient copied from the reference's.

    The reference stores, per output tensor ``i``, ``theta_i`` of shape
    ``(terms, c_in, c_out)`` ordered by input tensor and then by its own partition
    enumeration; terms are identified across the two implementations by their
    partition of the output and input indices.
    """
    tensors = match_spec(seq2seq_spec(), x, leading=1, trailing=1)
    plan = layer_plan(tuple(tensors))
    c_in = next(iter(jax.tree_util.tree_leaves(x))).shape[-1]
    where = {}
    for group in plan.groups:
        for pt in group.terms:
            for o in group.out_indices:
                where[(o, pt.in_index, pt.term.partition)] = pt.row_unit
    ours = {k: np.array(v) for k, v in ours_vars["params"].items()}
    ref = ref_vars["params"]
    for i, out in enumerate(tensors):
        k = 0
        for j, inp in enumerate(tensors):
            parts = ref_algorithm.valid_partitions(
                list(range(len(out.labels) + len(inp.labels))), list(out.labels + inp.labels)
            )
            for part in parts:
                key = (i, j, tuple(sorted(tuple(sorted(b)) for b in part)))
                row = where[key]
                ours[f"theta_{i}"][row * c_in : (row + 1) * c_in] = np.asarray(ref[f"theta_{i}"][k])
                k += 1
        assert k == ref[f"theta_{i}"].shape[0]
        ours[f"bias_{i}"] = np.asarray(ref[f"bias_{i}"])
    return {"params": {k: jnp.asarray(v) for k, v in ours.items()}}


def check_same_function(ref_layers, ref_algorithm) -> float:
    """Max |ours - reference| on a small weight space with matched coefficients."""
    x = gru_features(hidden=4, vocab=3, batch=2, channels=2, seed=1)
    ours, ref = ours_layer(3), reference_layer(ref_layers, 3, 2)
    ref_vars = ref.init(jax.random.PRNGKey(0), x)
    ours_vars = match_coefficients(
        ref_algorithm, ours.init(jax.random.PRNGKey(1), x), ref_vars, x
    )
    y_ours, y_ref = ours.apply(ours_vars, x), ref.apply(ref_vars, x)
    diffs = jax.tree_util.tree_map(lambda a, b: float(jnp.max(jnp.abs(a - b))), y_ours, y_ref)
    return max(jax.tree_util.tree_leaves(diffs))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="checkout of the reference library")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=14)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    x = gru_features(args.hidden, args.vocab, args.batch, args.channels)
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {jax.device_count()} x {jax.devices()[0].device_kind}",
        "jax": jax.__version__,
        "hidden": args.hidden,
        "vocab": args.vocab,
        "batch": args.batch,
        "channels": args.channels,
        "basis_terms": sum(count_basis_terms(seq2seq_spec()).values()),
    }
    ours = ours_layer(args.channels)
    ours_vars = jax.jit(ours.init)(jax.random.PRNGKey(0), x)
    first, median = _time(_fwd_bwd(ours.apply), ours_vars, x, repeats=args.repeats)
    result["ours"] = {"params": _n_params(ours_vars), "first_s": first, "median_s": median}
    print(json.dumps(result["ours"]), flush=True)

    if args.reference:
        ref_layers, ref_algorithm = load_reference(args.reference)
        result["same_function_max_abs_diff"] = check_same_function(ref_layers, ref_algorithm)
        print("same function, max |diff|:", result["same_function_max_abs_diff"], flush=True)
        ref = reference_layer(ref_layers, args.channels, args.channels)
        ref_vars = jax.jit(ref.init)(jax.random.PRNGKey(0), x)
        first, median = _time(_fwd_bwd(ref.apply), ref_vars, x, repeats=args.repeats)
        result["reference"] = {"params": _n_params(ref_vars), "first_s": first, "median_s": median}
        result["speedup"] = result["reference"]["median_s"] / result["ours"]["median_s"]
        if result["reference"]["params"] != result["ours"]["params"]:
            raise SystemExit("the two layers have different parameter counts: not the same basis")
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
