"""Calibrate a zoo preset: train a sample of its models and report the SR spread.

The sample is the zoo of the same config with fewer models (``--models``), so its
learning rates and batch sizes are drawn exactly as in the real zoo. Any config field
can be overridden to try alternatives, and ``--checkpoints`` evaluates the same models
after several step counts in one run (the steps of a preset are the main knob), e.g.

    python -m benchmarks.zoo_calibration --preset mini --models 60 \
        --set hidden=32 --checkpoints 300,600,1200 --json docs/results/calib.json

For every checkpoint it prints the spread criterion of :mod:`zoo_builder.spread` and the
training throughput (model-steps per second, compilation excluded).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from zoo_builder.hparams import model_hparams, model_key
from zoo_builder.presets import ZooConfig, get_preset
from zoo_builder.spread import sr_spread
from zoo_builder.train import _group_programs, problem_sets, training_groups


def override(config: ZooConfig, assignments: list[str]) -> ZooConfig:
    """``config`` with ``FIELD=VALUE`` assignments applied (ints and floats)."""
    fields = {f.name for f in dataclasses.fields(ZooConfig)}
    changes = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or key not in fields or key in ("preset", "batch_sizes"):
            raise SystemExit(f"--set {item}: expected FIELD=VALUE with a numeric config field")
        current = getattr(config, key)
        changes[key] = float(value) if isinstance(current, float) else int(value)
    return dataclasses.replace(config, **changes)


def calibrate(config: ZooConfig, checkpoints: list[int]) -> dict:
    """Train every model of ``config`` for ``max(checkpoints)`` steps, evaluating all of
    them after each checkpoint. Returns per-checkpoint spreads and per-model SRs."""
    test, pool = problem_sets(config)
    test_arrays = [jnp.asarray(a, jnp.int32) for a in (test.question, test.decoder_input,
                                                         test.answer)]
    pool_arrays = [jnp.asarray(a, jnp.int32) for a in (pool.question, pool.decoder_input,
                                                         pool.answer)]
    k = min(config.n_train_eval, len(pool))
    srs = {c: {} for c in checkpoints}
    train_seconds, model_steps = 0.0, 0
    t_start = time.perf_counter()
    for group in training_groups(config):
        init, train_chunk, evaluate = _group_programs(config, group.batch_size)
        keys = jnp.stack([model_key(config, i) for i in group.model_ids])
        lrs = jnp.asarray([model_hparams(config, i).learning_rate for i in group.model_ids],
                          jnp.float32)
        params, opt = init(keys)
        done = 0
        for c in checkpoints:
            while done < c:
                n = min(100, c - done)
                if n != 100:  # compile odd chunk lengths outside the timed region
                    jax.block_until_ready(train_chunk(params, opt, lrs, keys, done,
                                                      *pool_arrays, length=n))
                t0 = time.perf_counter()
                params, opt, _ = train_chunk(params, opt, lrs, keys, done, *pool_arrays,
                                             length=n)
                jax.block_until_ready(params)
                if done > 0:  # the first chunk includes compilation
                    train_seconds += time.perf_counter() - t0
                    model_steps += n * len(group.model_ids)
                done += n
            sr, _, _ = evaluate(params, *test_arrays, *(a[:k] for a in pool_arrays))
            for i, s in zip(group.model_ids, np.asarray(sr).tolist(), strict=True):
                srs[c][i] = s
    out = {
        "config": config.to_dict(),
        "wall_s": time.perf_counter() - t_start,
        "model_steps_per_s": model_steps / train_seconds if train_seconds else None,
        "checkpoints": {},
    }
    for c in checkpoints:
        values = np.asarray([srs[c][i] for i in sorted(srs[c])])
        report = sr_spread(values)
        out["checkpoints"][str(c)] = {
            "spread": dataclasses.asdict(report) | {"ok": report.ok},
            "summary": report.summary(),
            "models": [
                {"id": i, "lr": model_hparams(config, i).learning_rate,
                 "batch": model_hparams(config, i).batch_size, "sr": srs[c][i]}
                for i in sorted(srs[c])
            ],
        }
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--models", type=int, help="sample size (default: the preset's)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--checkpoints", help="comma-separated step counts (default: steps)")
    parser.add_argument("--json", help="write the full result here")
    parser.add_argument("--verbose", action="store_true", help="print every model's SR")
    args = parser.parse_args(argv)
    config = override(get_preset(args.preset), args.set)
    if args.models:
        config = dataclasses.replace(config, num_models=args.models)
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",")}) if args.checkpoints \
        else [config.steps]
    out = calibrate(config, checkpoints)
    print(f"config {json.dumps(out['config'])}")
    print(f"wall {out['wall_s']:.1f} s, {out['model_steps_per_s']} model-steps/s")
    for c, entry in out["checkpoints"].items():
        print(f"steps {c}: {entry['summary']}")
        if args.verbose:
            for m in entry["models"]:
                print(f"  model {m['id']:5d} lr={m['lr']:.2e} bs={m['batch']:3d} sr={m['sr']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
