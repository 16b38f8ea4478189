"""Benchmark: one UNF layer on the Tiny RNN Zoo's weight space, and the UNF predictor step.

Times forward + backward (gradient of a scalar loss with respect to the layer's
parameters and its input) of a ``c -> c`` channel layer on the seq2seq GRU weight space
(22 tensors, 2,058 basis terms), batch 10, jit-compiled. In one process, interleaved
call by call so that load from other processes hits all of them alike (medians):

- ``ours``: :class:`predictors.unf.UNFLayer`;
- ``v1``: the previous library layer (:mod:`tests.predictors.unf_layer_previous`), the
  baseline of the speed-up (``first_s``: the first call, compilation included);
- ``matmul``: a square float32 matmul with the same FLOP count as ``ours`` (from XLA's
  compiled cost analysis), i.e. the time the layer would take at this machine's dense
  matmul rate: ``ours / matmul`` is how far the layer is from its FLOP bound;
- with ``--predictor-steps N``: one Adam step of the UNF predictor (current and v1
  layers), STATNN and Deep Sets (protocol's compiled step, batch 10) on synthetic
  models of the paper preset's shape (hidden ``--hidden``, vocabulary ``--vocab``),
  with the implied epoch time on ``--train-models`` models.

The reference is the paper's public layer library (AllanYangZhou/universal_neural_functional),
run from a local checkout given by ``--reference``; its code is imported at run time
only and is not part of this repository. In the same run the script checks that both
layers have the same basis (terms and parameter count) and, on a small weight space,
that they compute the same function once our coefficients are set to the reference's.

Run it from the repository root (it is not installed with the library, and it imports
its baseline, :class:`UNFLayerPrevious`, from ``tests/predictors/unf_layer_previous.py``,
where the test oracle of the library layer lives; neither folder is an installed package):

    python -m scripts.unf_layer_speed --reference /path/to/universal_neural_functional
    python -m scripts.unf_layer_speed --predictor-steps 5 \
        --json docs/results/unf_layer_speed_issue18.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
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
from tests.predictors.unf_layer_previous import UNFLayerPrevious, UNFNetPrevious
from zoo_data.rnn.model import init_params
from zoo_data.rnn.spec import seq2seq_spec


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


def _cost(jitted, *args) -> dict:
    """XLA's compiled cost analysis: flops and bytes accessed (GFLOP, GB)."""
    cost = jitted.lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return {"gflop": cost.get("flops", 0.0) / 1e9,
            "gbytes_accessed": cost.get("bytes accessed", 0.0) / 1e9}


def _interleaved(calls: dict, repeats: int, first: dict | None = None) -> dict:
    """Median seconds of each ``name -> (fn, args)``, calls interleaved round by round
    (after one warm-up call each), so that load from other processes is shared. The
    warm-up call's seconds (compilation included) go to ``first[name]`` if given."""
    for name, (fn, args) in calls.items():
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        if first is not None:
            first[name] = time.perf_counter() - t0
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, (fn, args) in calls.items():
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def predictor_steps(hidden: int, vocab: int, steps: int, train_models: int) -> dict:
    """Seconds per training step (batch 10) of UNF (current and v1), STATNN and Deep Sets
    on synthetic paper-shaped models; ``epoch_min`` = ``ceil(N / 10)`` steps. STATNN's
    features are cached once per split (its step reads them), so its one-off feature
    time per model is reported apart, as in :mod:`scripts.predictor_epoch_time`."""
    import optax

    from benchmarks.training_step import training_programs
    from predictors.registry import BUILTINS
    from predictors.unf_predictor import UNFPredictor

    class UNFPredictorPrevious(UNFPredictor):
        def module(self, spec):
            return UNFNetPrevious(spec)

    spec = seq2seq_spec()
    batch = 10
    models = [init_params(hidden, vocab, jax.random.PRNGKey(s))["params"] for s in range(batch)]
    params = jax.tree_util.tree_map(lambda *a: np.stack([np.asarray(x) for x in a])[..., None],
                                    *models)
    sr = np.linspace(0.05, 0.95, batch).astype(np.float32)
    methods = {"unf": BUILTINS["unf"](), "unf_v1": UNFPredictorPrevious(),
               "statnn": BUILTINS["statnn"](), "deep-sets": BUILTINS["deep-sets"]()}
    calls, extra = {}, {}
    for name, predictor in methods.items():
        module = predictor.module(spec)
        _, _, step = training_programs(predictor, module, 1e-3)
        t0 = time.perf_counter()
        feats = predictor.features(params, spec)
        features_s = time.perf_counter() - t0
        variables = module.init(jax.random.PRNGKey(0), feats)
        opt_state = optax.adam(1e-3).init(variables)
        calls[name] = (step, (variables, opt_state, feats, sr))
        extra[name] = {"features_per_model_s": features_s / batch,
                       "cached_features": bool(predictor.cache_features)}
    first: dict = {}
    step_s = _interleaved(calls, steps, first)
    epoch_steps = math.ceil(train_models / batch)
    out = {}
    for name, s in step_s.items():
        per_step = s if extra[name]["cached_features"] else s + batch * extra[name][
            "features_per_model_s"]
        out[name] = {"step_s": round(s, 4), "first_step_s": round(first[name], 2),
                     **extra[name],
                     "epoch_min": round(epoch_steps * per_step / 60, 2)}
        if extra[name]["cached_features"]:  # one-off, before the first epoch
            out[name]["features_min"] = round(
                train_models * extra[name]["features_per_model_s"] / 60, 2)
    out["unf_v1_over_unf_step"] = round(step_s["unf_v1"] / step_s["unf"], 2)
    out["unf_over_deep_sets_step"] = round(step_s["unf"] / step_s["deep-sets"], 2)
    out["train_models"] = train_models
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="checkout of the reference library")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--vocab", type=int, default=14)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--predictor-steps", type=int, default=0,
                        help="also time N predictor training steps of each method")
    parser.add_argument("--train-models", type=int, default=8000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    x = gru_features(args.hidden, args.vocab, args.batch, args.channels)
    result = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other "
        f"processes), {jax.device_count()} x {jax.devices()[0].device_kind}",
        "jax": jax.__version__,
        "hidden": args.hidden,
        "vocab": args.vocab,
        "batch": args.batch,
        "channels": args.channels,
        "repeats": args.repeats,
        "basis_terms": sum(count_basis_terms(seq2seq_spec()).values()),
    }
    ours, v1 = ours_layer(args.channels), UNFLayerPrevious(seq2seq_spec(), args.channels)
    ours_vars = jax.jit(ours.init)(jax.random.PRNGKey(0), x)
    v1_vars = jax.jit(v1.init)(jax.random.PRNGKey(0), x)
    if jax.tree_util.tree_structure(ours_vars) != jax.tree_util.tree_structure(v1_vars):
        raise SystemExit("current and v1 layers have different parameter trees")
    f_ours, f_v1 = _fwd_bwd(ours.apply), _fwd_bwd(v1.apply)
    fwd_ours = jax.jit(ours.apply)
    t0 = time.perf_counter()
    jax.block_until_ready(f_ours(ours_vars, x))
    first_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(f_v1(ours_vars, x))
    first_v1 = time.perf_counter() - t0
    cost_ours, cost_v1 = _cost(f_ours, ours_vars, x), _cost(f_v1, ours_vars, x)
    n = round((cost_ours["gflop"] * 1e9 / 2) ** (1 / 3))
    a = jnp.asarray(np.random.default_rng(0).normal(size=(n, n)), jnp.float32)
    matmul = jax.jit(lambda m: m @ m)
    a2048 = jnp.ones((2048, 2048), jnp.float32)
    med = _interleaved({"ours": (f_ours, (ours_vars, x)), "v1": (f_v1, (ours_vars, x)),
                        "ours_forward": (fwd_ours, (ours_vars, x)),
                        "matmul_same_flops": (matmul, (a,)),
                        "matmul_2048": (matmul, (a2048,))}, args.repeats)
    result["ours"] = {"params": _n_params(ours_vars), "first_s": first_ours,
                      "median_s": med["ours"], "forward_median_s": med["ours_forward"],
                      **cost_ours}
    result["v1"] = {"params": _n_params(v1_vars), "first_s": first_v1, "median_s": med["v1"],
                    **cost_v1}
    result["matmul_same_flops"] = {"n": n, "median_s": med["matmul_same_flops"],
                                   "gflop_per_s": 2 * n**3 / med["matmul_same_flops"] / 1e9}
    result["matmul_2048_gflop_per_s"] = 2 * 2048**3 / med["matmul_2048"] / 1e9
    result["v1_over_ours"] = med["v1"] / med["ours"]
    result["ours_over_matmul_same_flops"] = med["ours"] / med["matmul_same_flops"]
    print(json.dumps(result, indent=2), flush=True)

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
    if args.predictor_steps:
        result["predictor_steps"] = predictor_steps(args.hidden, args.vocab,
                                                    args.predictor_steps, args.train_models)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
