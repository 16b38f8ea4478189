"""Probe a zoo config at chosen learning rates: SR curves and where the answers go wrong.

A calibration (:mod:`scripts.zoo_calibration`) trains a sample of the zoo's own models;
this probe trains a few models of one batch size at learning rates you choose (model
``k`` takes model ``k``'s initialisation and batches), so a config variant can be judged
in minutes: the test SR after each checkpoint, and for the last checkpoint the accuracy
of each answer position under greedy decoding and the position of each problem's first
wrong token. The training program is the builder's own
(:func:`zoo_builder.train.group_programs`).

    python -m scripts.lr_probe --preset paper --set operands=small-addend \
        --batch-size 128 --lrs 2e-4,1e-3,3e-3,8e-3 --checkpoints 1000,2000,4000,6000

With ``--set lr_schedule=cosine`` the schedule runs over the last checkpoint's steps, so
only that checkpoint is what a zoo with that many steps would hold.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from scripts.zoo_calibration import override
from zoo_builder.programs import group_programs
from zoo_builder.train import model_key
from zoo_data.common.atomic import atomic_write, json_bytes
from zoo_data.rnn.model import Seq2Seq
from zoo_data.rnn.presets import ZooConfig, get_preset, problem_sets
from zoo_data.rnn.task import EQUALS, PAD, VOCAB_SIZE


def greedy_tokens(config: ZooConfig, params, question: np.ndarray, length: int) -> np.ndarray:
    """Greedy completions ``(N, length)`` of one model's ``params`` for ``question (N, T_q)``."""
    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)
    variables = {"params": params}
    q = jax.nn.one_hot(jnp.asarray(question, jnp.int32), VOCAB_SIZE)
    carry = model.apply(variables, q, method=Seq2Seq.encode)
    token = jnp.full((q.shape[0],), EQUALS, jnp.int32)
    out = []
    for _ in range(length):
        carry, logits = model.apply(variables, carry, jax.nn.one_hot(token, VOCAB_SIZE),
                                    method=lambda m, c, x: m.decoder(c, x))
        token = jnp.argmax(logits, -1).astype(jnp.int32)
        out.append(np.asarray(token))
    return np.stack(out, 1)


def position_report(preds: np.ndarray, answer: np.ndarray) -> dict:
    """Per answer position, the share of problems whose greedy token is right (padding
    counts as right), and how many problems first go wrong at each position."""
    right = (preds == answer) | (answer == PAD)
    solved = right.all(1)
    first = np.argmin(right, 1)[~solved]
    return {"sr": float(solved.mean()),
            "position_accuracy": right.mean(0).round(4).tolist(),
            "first_error_at": np.bincount(first, minlength=answer.shape[1]).tolist()}


def probe(config: ZooConfig, batch_size: int, lrs: list[float], checkpoints: list[int]) -> dict:
    """Train ``len(lrs)`` models (one block) for ``max(checkpoints)`` steps; see module."""
    config = dataclasses.replace(config, num_models=len(lrs), group_size=len(lrs),
                                 block_size=len(lrs), steps=max(checkpoints),
                                 checkpoints=None)
    programs = group_programs(config, batch_size, jax.local_devices()[:1])
    test, pool = problem_sets(config)
    keys = np.stack([np.asarray(model_key(config, i)) for i in range(len(lrs))])
    params, opt = programs.init(keys)
    block_keys = programs.to_blocks(keys)
    block_lrs = programs.to_blocks(np.asarray(lrs, np.float32))
    pool_arrays = [jnp.asarray(a, jnp.int32) for a in (pool.question, pool.decoder_input,
                                                         pool.answer)]
    k = min(config.n_train_eval, len(pool))
    eval_arrays = (*(jnp.asarray(a, jnp.int32) for a in (test.question, test.decoder_input,
                                                          test.answer)),
                   *(a[:k] for a in pool_arrays))
    done, t0, curves = 0, time.perf_counter(), {}
    for stop in checkpoints:
        while done < stop:
            n = min(500, stop - done)
            params, opt, _ = programs.train_chunk(params, opt, block_lrs, block_keys, done,
                                                  *pool_arrays, {}, length=n)
            done += n
        sr = programs.labels(programs.evaluate(params, *eval_arrays), len(lrs))[0]
        curves[str(stop)] = sr.tolist()
        print(f"steps {stop:6d} ({time.perf_counter() - t0:5.0f} s): "
              + " ".join(f"{s:.3f}" for s in sr), flush=True)
    flat = jax.tree_util.tree_map(lambda x: programs.from_blocks(x, len(lrs)), params)
    positions = []
    for m, lr in enumerate(lrs):
        one = jax.tree_util.tree_map(lambda x, m=m: x[m], flat)
        report = position_report(greedy_tokens(config, one, test.question,
                                               test.answer.shape[1]), test.answer)
        positions.append({"lr": lr, **report})
        print(f"lr {lr:.1e}: SR {report['sr']:.3f}, position accuracy "
              f"{report['position_accuracy']}, first error at {report['first_error_at']}")
    return {"config": config.to_dict(), "batch_size": batch_size, "lrs": lrs,
            "sr_at": curves, "positions": positions,
            "wall_s": time.perf_counter() - t0, "platform": jax.default_backend()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lrs", default="2e-4,1e-3,3e-3,8e-3")
    parser.add_argument("--checkpoints", required=True, help="comma-separated step counts")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    config = override(get_preset(args.preset), args.set)
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",")})
    out = probe(config, args.batch_size, [float(x) for x in args.lrs.split(",")], checkpoints)
    if args.json:
        atomic_write(Path(args.json), json_bytes(out))


if __name__ == "__main__":
    main()
