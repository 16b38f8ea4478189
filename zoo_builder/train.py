"""Vectorised training and evaluation of one training group of zoo models.

A training group (:mod:`zoo_data.archive.layout`) is a fixed set of models that share a batch
size (so no example is padded or wasted); they train together in one jit-compiled step,
``vmap``-ed over the model axis and ``scan``-ned over steps (:mod:`zoo_builder.programs`).
Every model is always computed by the same program with the same companions: bitwise
the same weights on the same hardware and software, whichever shard, resume point or
machine builds it. Model ``i``'s initialisation and batches derive from
:func:`model_key` ``(config, i)`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from zoo_builder.programs import group_programs, varied_inputs
from zoo_builder.shards import Checkpoint, GroupResult
from zoo_data.archive.layout import TrainingGroup
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import TRAINER_REVISION, ZooConfig, problem_sets

__all__ = ["model_key", "train_group"]


def model_key(config: ZooConfig, model_id: int) -> jax.Array:
    """The model's root PRNG key (initialisation and batches split from it):
    ``fold_in(PRNGKey(seed), model_id)``."""
    return jax.random.fold_in(jax.random.PRNGKey(config.seed), model_id)


def train_group(
    config: ZooConfig,
    group: TrainingGroup,
    chunk_steps: int = 100,
    on_steps: Callable[[int], None] | None = None,
    evaluate_at: Sequence[int] = (),
    devices: Sequence[jax.Device] | None = None,
) -> GroupResult:
    """Train and evaluate every model of ``group``.

    Args:
      config: the zoo config. With ``config.checkpoints``, the weights and labels after
        each checkpoint step are kept too (``result.checkpoints[step]``), read from the
        one run: chunks end there, which changes nothing in the weights.
      group: one of the zoo's training groups (:class:`zoo_data.archive.layout.ZooLayout`), or
        any models sharing a batch size (for calibration).
      chunk_steps: steps per compiled scan; ``on_steps(n)`` is called after each chunk
        with the number of steps just done (for progress bars).
      evaluate_at: step counts below ``config.steps`` after which the test SR is also
        measured (``result.sr_at[step]``; for calibration).
      devices: the devices the group's blocks are spread over (default: every local
        device); the result is the same for any choice (see :class:`GroupPrograms`).
    """
    if config.trainer_revision != TRAINER_REVISION:
        raise ValueError(f"config of trainer revision {config.trainer_revision}: this builder "
                         f"trains revision {TRAINER_REVISION} only (different weights)")
    stops = sorted({int(s) for s in evaluate_at})
    if stops and not 0 < stops[0] <= stops[-1] < config.steps:
        raise ValueError(f"evaluate_at {stops}: steps must lie in 1..{config.steps - 1}")
    kept = set(config.checkpoint_steps[:-1])
    programs = group_programs(config, group.batch_size, devices)
    m = len(group.model_ids)
    test, pool = problem_sets(config)
    hps = [model_hparams(config, i) for i in group.model_ids]
    keys = np.stack([np.asarray(model_key(config, i)) for i in group.model_ids])
    lrs = np.asarray([h.learning_rate for h in hps], np.float32)
    pool_arrays = [jnp.asarray(a, jnp.int32) for a in (pool.question, pool.decoder_input,
                                                         pool.answer)]
    k = min(config.n_train_eval, len(pool))
    eval_arrays = (
        *(jnp.asarray(a, jnp.int32) for a in (test.question, test.decoder_input, test.answer)),
        *(a[:k] for a in pool_arrays),
    )
    scales = None if config.init_scale is None else [h.init_scale for h in hps]
    params, opt_state = programs.init(keys, scales)
    block_keys, block_lrs = programs.to_blocks(keys), programs.to_blocks(lrs)
    varied = {name: programs.to_blocks(x)
              for name, x in varied_inputs(config, hps, len(pool)).items()}
    sr_at, checkpoints = {}, {}
    done = 0
    for stop in sorted({*stops, *kept, config.steps}):
        while done < stop:
            n = min(chunk_steps, stop - done)
            params, opt_state, _ = programs.train_chunk(
                params, opt_state, block_lrs, block_keys, done, *pool_arrays, varied, length=n
            )
            done += n
            if on_steps is not None:
                on_steps(n)
        if stop < config.steps:
            labels = programs.labels(programs.evaluate(params, *eval_arrays), m)
            sr_at[stop] = labels[0]
            if stop in kept:
                checkpoints[stop] = Checkpoint(
                    jax.tree_util.tree_map(lambda x: programs.from_blocks(x, m), params),
                    *labels)
    sr, test_loss, train_loss = programs.labels(programs.evaluate(params, *eval_arrays), m)
    return GroupResult(
        model_ids=group.model_ids,
        params=jax.tree_util.tree_map(lambda x: programs.from_blocks(x, m), params),
        test_sr=sr,
        test_loss=test_loss,
        train_loss=train_loss,
        sr_at={s: sr_at[s] for s in stops},
        checkpoints=checkpoints,
    )
