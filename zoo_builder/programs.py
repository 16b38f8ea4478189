"""The compiled programs that train and evaluate a group's models, in fixed blocks.

Per model: the forward pass is :func:`zoo_builder.fused.fused_logits` (flax's
``Seq2Seq`` with the hidden kernels of each cell fused into one matmul; the same
function to float rounding), the loss and labels those of :mod:`zoo_builder.objective`,
the optimiser Adam (:mod:`zoo_builder.adam`) with the model's own learning rate scaled
per step by the config's schedule (:mod:`zoo_builder.schedule`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from zoo_builder.adam import adam_init, adam_update
from zoo_builder.devices import model_mesh
from zoo_builder.fused import fused_logits
from zoo_builder.objective import (
    host_sequence_loss,
    host_success_rate,
    sequence_loss,
    token_losses,
)
from zoo_builder.schedule import lr_factor
from zoo_data.rnn.hparams import ModelHParams, training_subset
from zoo_data.rnn.model import Seq2Seq, greedy_success
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.task import VOCAB_SIZE

__all__ = ["block_size", "GroupPrograms", "group_programs", "varied_inputs"]


def block_size(config: ZooConfig) -> int:
    """Models one device trains in one vectorised program: ``config.block_size``, or
    the whole group when the config leaves it unset."""
    return config.block_size or config.group_size


@dataclass(frozen=True)
class GroupPrograms:
    """The compiled programs for groups of one batch size on one device mesh.

    A group's ``M`` models are laid out in *blocks* of ``b = block_size(config)`` models:
    arrays carry a leading ``(n_blocks, b)`` pair of axes, ``n_blocks`` being
    ``ceil(M / b)`` rounded up to a multiple of the device count (the extra slots repeat
    model 0 and are dropped). The block axis is sharded over the mesh
    (``NamedSharding(mesh, P("models"))``); inside ``shard_map`` each device runs
    ``lax.map`` over its own blocks, and each block is the same ``vmap`` over ``b`` models
    whatever the number of devices. So every model is computed by the same compiled
    block program on 1 device or on 8: bitwise the same weights on the same hardware.

    - ``init(keys (M, 2), scales (M,) | None) -> (params, opt_state)``, blocked, leaves
      ``(n_blocks, b, ...)``; ``scales`` multiply each model's initial tensors (only for
      configs that vary ``init_scale``);
    - ``train_chunk(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, varied,
      length=n)`` with blocked ``lrs (n_blocks, b)`` and ``keys (n_blocks, b, 2)`` runs
      steps ``start .. start+n-1`` -> ``(params, opt_state, losses (n_blocks, n, b))``;
      ``varied`` holds the blocked per-model values of the config's variations
      (:func:`varied_inputs`; empty when it varies none, which is the program of zoos
      built before variations existed);
    - ``evaluate(params, test_q, test_d, test_a, train_q, train_d, train_a)`` ->
      per-problem test successes ``(n_blocks, b, N_test)`` and per-token test and train
      losses ``(n_blocks, b, N, T_a)``; :meth:`labels` reduces them on the host.
    """

    mesh: Mesh
    block: int
    init: Callable
    train_chunk: Callable
    evaluate: Callable

    @property
    def num_devices(self) -> int:
        return self.mesh.devices.size

    def num_blocks(self, num_models: int) -> int:
        """Blocks for ``num_models`` models: enough, and a multiple of the device count."""
        blocks = -(-num_models // self.block)
        return -(-blocks // self.num_devices) * self.num_devices

    def to_blocks(self, x) -> jax.Array:
        """``(M, ...) -> (n_blocks, b, ...)``, padded with copies of row 0, sharded."""
        x = np.asarray(x)
        slots = self.num_blocks(len(x)) * self.block
        padded = np.concatenate([x, np.repeat(x[:1], slots - len(x), axis=0)])
        blocked = padded.reshape(-1, self.block, *x.shape[1:])
        return jax.device_put(blocked, NamedSharding(self.mesh, P("models")))

    def labels(self, evaluated, num_models: int) -> tuple[np.ndarray, ...]:
        """``evaluate``'s output -> (test SR, test loss, train loss), each ``(M,)``."""
        success, test_ce, train_ce = (self.from_blocks(x, num_models) for x in evaluated)
        return (host_success_rate(success), host_sequence_loss(test_ce),
                host_sequence_loss(train_ce))

    def from_blocks(self, x, num_models: int) -> np.ndarray:
        """``(n_blocks, b, ...) -> (M, ...)``: the first ``num_models`` slots, on the host."""
        x = np.asarray(x)
        return x.reshape(-1, *x.shape[2:])[:num_models]


def varied_inputs(config: ZooConfig, hps: Sequence[ModelHParams],
                  pool_size: int) -> dict[str, np.ndarray]:
    """The per-model inputs of the training step for the config's variations, each with
    the model axis first: ``weight_decay``, ``adam_b1``, ``clip_norm`` ``(M,)`` float32,
    and for ``data_fraction`` the model's training subset (:func:`training_subset`)
    as ``subset (M, pool_size)`` int32 (padded with its first entry) and
    ``subset_size (M,)`` int32. ``init_scale`` is applied at initialisation instead."""
    out: dict[str, np.ndarray] = {}
    for name in ("weight_decay", "adam_b1", "clip_norm"):
        if getattr(config, name) is not None:
            out[name] = np.asarray([getattr(h, name) for h in hps], np.float32)
    if config.data_fraction is not None:
        subsets = [training_subset(config, h, pool_size) for h in hps]
        out["subset_size"] = np.asarray([len(x) for x in subsets], np.int32)
        out["subset"] = np.stack([np.concatenate([x, np.full(pool_size - len(x), x[0],
                                                             np.int32)]) for x in subsets])
    return out


@lru_cache(maxsize=16)
def _group_programs(config: ZooConfig, batch_size: int,
                    devices: tuple[jax.Device, ...]) -> GroupPrograms:
    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)
    logits_fn = fused_logits  # flax's function with a fused hidden kernel (faster)
    t_q, t_a = 2 * config.max_digits + 2, config.max_digits + 2
    mesh = model_mesh(devices)
    blocks = P("models")
    shared = P()

    def init_one(key):
        q = jnp.zeros((1, t_q, VOCAB_SIZE))
        d = jnp.zeros((1, t_a, VOCAB_SIZE))
        params = model.init(jax.random.fold_in(key, 0), q, d)["params"]
        return params, adam_init(params)

    def step_one(params, opt_state, lr, key, t, pool_q, pool_d, pool_a, varied):
        # every variation is a branch taken at trace time: a config that varies none
        # compiles the exact program of zoos built before variations existed
        batch_key = jax.random.fold_in(jax.random.fold_in(key, 1), t)
        if "subset" in varied:
            pick = jax.random.randint(batch_key, (batch_size,), 0, varied["subset_size"])
            idx = varied["subset"][pick]
        else:
            idx = jax.random.randint(batch_key, (batch_size,), 0, pool_q.shape[0])
        loss, grads = jax.value_and_grad(sequence_loss, argnums=1)(
            logits_fn, params, pool_q[idx], pool_d[idx], pool_a[idx]
        )
        if "clip_norm" in varied:
            norm = jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(grads)))
            scale = jnp.minimum(1.0, varied["clip_norm"] / jnp.maximum(norm, 1e-30))
            grads = jax.tree_util.tree_map(lambda g: g * scale, grads)
        # the constant schedule keeps the exact program of zoos built before schedules
        lr_t = lr if config.lr_schedule == "constant" else \
            lr * lr_factor(config.lr_schedule, t, config.steps)
        if "adam_b1" in varied:
            params, opt_state = adam_update(grads, opt_state, params, lr_t,
                                           b1=varied["adam_b1"])
        else:
            params, opt_state = adam_update(grads, opt_state, params, lr_t)
        if "weight_decay" in varied:
            decay = lr_t * varied["weight_decay"]
            params = jax.tree_util.tree_map(lambda p: p - decay * p, params)
        return params, opt_state, loss

    def init_scaled(key, scale):
        params = jax.tree_util.tree_map(lambda p: p * scale, init_one(key)[0])
        return params, adam_init(params)

    init_single = jax.jit(init_one)
    init_single_scaled = jax.jit(init_scaled)
    programs = GroupPrograms(mesh, block_size(config), None, None, None)

    def init(keys, scales=None):
        # One model at a time, then stacked: under vmap, flax's orthogonal initialiser
        # becomes a batched QR whose LAPACK kernel waits on XLA's CPU thread pool from
        # inside that pool, which deadlocks on a 2-core machine (tests/zoo_builder/
        # test_model_and_training.py::test_group_initialisation_does_not_deadlock).
        if scales is None:
            singles = [init_single(key) for key in keys]
        else:
            singles = [init_single_scaled(key, np.float32(s))
                       for key, s in zip(keys, scales, strict=True)]
        stacked = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *singles)
        return jax.tree_util.tree_map(programs.to_blocks, stacked)

    def train_blocks(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, varied,
                     length):
        def one_block(block):
            p, s, lr, key, v = block

            def body(carry, t):
                p, s = carry
                p, s, loss = jax.vmap(step_one,
                                      in_axes=(0, 0, 0, 0, None, None, None, None, 0))(
                    p, s, lr, key, t, pool_q, pool_d, pool_a, v
                )
                return (p, s), loss

            (p, s), losses = jax.lax.scan(body, (p, s), start + jnp.arange(length))
            return p, s, losses

        return jax.lax.map(one_block, (params, opt_state, lrs, keys, varied))

    @partial(jax.jit, static_argnames=("length",))
    def train_chunk(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, varied, *,
                    length):
        sharded = jax.shard_map(
            partial(train_blocks, length=length),
            mesh=mesh,
            in_specs=(blocks, blocks, blocks, blocks, shared, shared, shared, shared,
                      {name: blocks for name in varied}),
            out_specs=(blocks, blocks, blocks),
        )
        return sharded(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, varied)

    def evaluate_blocks(params, test_q, test_d, test_a, train_q, train_d, train_a):
        # per problem and token only: the means are taken on the host, because XLA
        # reduced them in a different order in the 2-device program (last-bit changes)
        def one(p):
            success = greedy_success(model, p, test_q, test_a)
            test_ce = token_losses(logits_fn, p, test_q, test_d, test_a)
            train_ce = token_losses(logits_fn, p, train_q, train_d, train_a)
            return success, test_ce, train_ce

        return jax.lax.map(jax.vmap(one), params)

    evaluate = jax.jit(jax.shard_map(
        evaluate_blocks, mesh=mesh, in_specs=(blocks, *[shared] * 6),
        out_specs=(blocks, blocks, blocks),
    ))
    return dataclasses.replace(programs, init=init, train_chunk=train_chunk, evaluate=evaluate)


def group_programs(config: ZooConfig, batch_size: int,
                   devices: Sequence[jax.Device] | None = None) -> GroupPrograms:
    """The :class:`GroupPrograms` for groups of ``batch_size`` on ``devices`` (default:
    every local device); compiled once per (config, batch size, devices)."""
    devices = tuple(jax.local_devices() if devices is None else devices)
    return _group_programs(config, batch_size, devices)
