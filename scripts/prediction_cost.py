"""FLOPs per prediction: what one model's prediction costs each built-in, by XLA's count.

    python -m scripts.prediction_cost --preset small-v2 \
        --json docs/results/prediction_cost_small-v2.json

For each method, the compiled forward pass that turns one model's archived weights into
its predicted success rate, at batch 1, with XLA's cost analysis
(``compiled.cost_analysis()["flops"]``): the features where they are computed in JAX (a
probing method runs the network on its problems; STATNN's statistics are numpy and not
counted) and the network on top. For the
predictors that run the zoo's GRU, also the network evaluations per prediction: problems
times the GRU steps on each (encoder plus decoder). Parameters are fresh (their values
do not change the count). Nothing is trained and no zoo is read: the weights are a fresh
initialisation of the preset's GRU.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import date
from pathlib import Path

import jax
import numpy as np

from predictors.registry import BUILTINS
from zoo_data.rnn.model import init_params
from zoo_data.rnn.presets import get_preset
from zoo_data.rnn.spec import seq2seq_spec
from zoo_data.rnn.task import VOCAB_SIZE


def flops_of(fn, *args) -> float:
    cost = jax.jit(fn).lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost.get("flops", 0.0))


def prediction_cost(method: str, config) -> dict:
    """``{"method", "gflop", "gru_steps"}`` of one prediction by ``method``."""
    predictor = BUILTINS[method]()
    predictor.bind(config)
    spec = seq2seq_spec()
    weights = jax.tree_util.tree_map(lambda x: np.asarray(x)[None, ..., None],
                                     init_params(config.hidden, VOCAB_SIZE,
                                                 jax.random.PRNGKey(0))["params"])
    t_q, t_a = 2 * config.max_digits + 2, config.max_digits + 2
    feature_flops = 0.0
    if method in ("probing", "probe-oracle"):
        inner = predictor._responses if method == "probing" else predictor._accuracy
        feature_flops = flops_of(inner, jax.tree_util.tree_map(lambda x: x[..., 0], weights))
        feats = predictor.features(weights, spec)
    elif predictor.reads == "metadata":
        return {"method": method, "gflop": None, "gru_steps": 0,
                "note": "reads metadata only"}
    else:
        feats = predictor.features(weights, spec)
    module = predictor.module(spec)
    variables = module.init(jax.random.PRNGKey(0), feats)
    head = flops_of(module.apply, variables, feats)
    from zoo_data.rnn.presets import problem_sets

    pool = len(problem_sets(config)[1].question)
    steps = {"probing": min(predictor.num_problems, pool) * (t_q + 2 * t_a)
             if method == "probing" else 0,
             "probe-oracle": getattr(predictor, "num_problems", 0) * (t_q + t_a),
             "probegen": getattr(predictor, "num_probes", 0) * (t_q + t_a)}.get(method, 0)
    note = ("the statistics are computed in numpy, not counted (a few passes over the "
            "weights)" if method in ("statnn", "linear-stats") else None)
    return {"method": method, "gflop": round((feature_flops + head) / 1e9, 6),
            "gru_steps": steps, "note": note}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small-v2")
    parser.add_argument("--methods", nargs="+", default=list(BUILTINS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    config = get_preset(args.preset)
    rows = [prediction_cost(m, config) for m in args.methods]
    print(f"{'method':<14} {'GFLOP per prediction':>21} {'GRU steps':>10}")
    for r in rows:
        g = "-" if r["gflop"] is None else f"{r['gflop']:.6f}"
        print(f"{r['method']:<14} {g:>21} {r['gru_steps']:>10}")
    if args.json:
        args.json.write_text(json.dumps({
            "date": date.today().isoformat(), "preset": args.preset,
            "machine": f"{platform.machine()}", "jax": jax.__version__,
            "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
