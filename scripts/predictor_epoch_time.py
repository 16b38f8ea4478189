"""Training time per epoch of the predictors on a train split of the paper preset's size.

For each method, on the train split of a zoo (default: a synthetic zoo of the paper
preset's shape, 8,000 hidden-128 train models, see :mod:`scripts.zoo_load_memory`),
the protocol's own compiled Adam step (:func:`benchmarks.training_step.training_programs`) is timed
on real batches of 10 models read from the shards in a shuffled order, exactly as one
epoch of :func:`benchmarks.protocol.run_protocol` does:

- ``step_s``: mean wall time of one training step (batch read + features + step),
  over ``--steps`` steps after a compiling warm-up step;
- ``epoch_min``: ``ceil(N_train / 10) * step_s`` in minutes (val prediction excluded);
- for cached-feature methods (STATNN), ``features_min``: the one-off time to compute the
  features of the whole train split (measured on ``--feature-models`` models and
  scaled), after which a step only reads a few cached numbers.

The ratio ``unf epoch / statnn epoch`` is measured in the same run. ``--batch`` and
``--train-models`` time another protocol (the Small CNN Zoo's NFN setup: batch 8,
12,000 train networks); the predictor is bound to the zoo first, so UNF has NFN's
sizes on a CNN zoo.

    python -m scripts.predictor_epoch_time --zoo /tmp/zoo-paper-synthetic \
        --json docs/results/predictor_epoch_time_paper.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from datetime import date

import jax
import numpy as np
import optax

from benchmarks.inputs import input_provider
from benchmarks.training_step import training_programs
from predictors.registry import BUILTINS
from zoo_data.zoo import open_local_zoo


def time_method(name: str, zoo_dir: str, steps: int, feature_models: int,
                batch: int = 10, train_models: int | None = None) -> dict:
    predictor = BUILTINS[name]()
    train = open_local_zoo(zoo_dir, "train")
    predictor.bind(train.config)  # the zoo's own sizes (UNF on a CNN zoo: NFN's)
    spec = train.spec

    provider = input_provider(predictor, train)

    def inputs(ids):
        return provider.inputs(train, ids)
    module = predictor.module(spec)
    _, _, step = training_programs(predictor, module, 1e-3)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train))
    sr = train.labels.astype(np.float32)

    features_min = None
    if predictor.cache_features:
        ids = train.model_ids[order[:feature_models]]
        t0 = time.perf_counter()
        cached = np.concatenate([predictor.features(inputs(ids[s : s + 50]), spec)
                                 for s in range(0, len(ids), 50)])
        per_model = (time.perf_counter() - t0) / len(ids)
        features_min = per_model * (train_models or len(train)) / 60

    def batch_features(k: int):
        idx = order[k * batch : (k + 1) * batch]
        if predictor.cache_features:  # rows of the features computed above
            rows = (np.arange(k * batch, (k + 1) * batch)) % len(cached)
            return cached[rows], idx
        return predictor.features(inputs(train.model_ids[idx]), spec), idx

    feats, idx = batch_features(0)
    variables = module.init(jax.random.PRNGKey(0), feats)
    opt_state = optax.adam(1e-3).init(variables)
    t0 = time.perf_counter()
    variables, opt_state, loss = step(variables, opt_state, feats, sr[idx])
    loss.block_until_ready()
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(1, steps + 1):
        feats, idx = batch_features(k)
        variables, opt_state, loss = step(variables, opt_state, feats, sr[idx])
    loss.block_until_ready()
    step_s = (time.perf_counter() - t0) / steps
    epoch_steps = math.ceil((train_models or len(train)) / batch)
    return {
        "method": name,
        "zoo": train.config.preset,
        "train_models": train_models or len(train),
        "batch": batch,
        "hidden": getattr(train.config, "hidden", None),
        "param_count": int(sum(x.size for x in jax.tree_util.tree_leaves(variables))),
        "steps_timed": steps,
        "compile_and_first_step_s": round(compile_s, 2),
        "step_s": round(step_s, 4),
        "epoch_steps": epoch_steps,
        "epoch_min": round(epoch_steps * step_s / 60, 2),
        "features_min": None if features_min is None else round(features_min, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", default="/tmp/zoo-paper-synthetic")
    parser.add_argument("--methods", default="unf,statnn,deep-sets")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--feature-models", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--train-models", type=int, default=None,
                        help="epoch of this many train models (default: the zoo's)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = []
    for name in args.methods.split(","):
        result = time_method(name, args.zoo, args.steps, args.feature_models, args.batch,
                             args.train_models)
        results.append(result)
        print(json.dumps(result), flush=True)
    by = {r["method"]: r for r in results}
    record = {
        "benchmark": "predictor_epoch_time",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "devices": [str(d) for d in jax.devices()],
        "zoo": args.zoo,
        "results": results,
    }
    if "unf" in by and "statnn" in by:
        record["unf_over_statnn_epoch"] = round(by["unf"]["epoch_min"]
                                                / max(by["statnn"]["epoch_min"], 1e-9), 1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
