"""Vectorised training and evaluation of a group of zoo models.

A *training group* is a fixed set of models that share a batch size (so no example is
padded or wasted); they train together in one jit-compiled step, ``vmap``-ed over the
model axis and ``scan``-ned over steps. Groups are a function of the zoo config alone
(:func:`training_groups`), never of how a build is split, so every model is always
computed by the same program with the same companions: bitwise the same weights on the
same hardware and software, whichever shard, resume point or machine builds it.

Per model (shapes for ``M`` models, batch ``B``, ``T_q``/``T_a`` question/answer length,
vocabulary ``V``):

- loss: mean over the ``B`` problems of the summed cross-entropy of the answer tokens up
  to and including ``<EOS>`` (teacher forcing);
- forward pass: :func:`zoo_builder.fused.fused_logits` (flax's ``Seq2Seq`` with the
  hidden kernels of each cell fused into one matmul; the same function to float
  rounding);
- optimiser: Adam with the model's own learning rate, scaled per step by the config's
  schedule (:mod:`zoo_builder.schedule`), ``steps`` steps;
- labels: test success rate (greedy completion equals answer + ``<EOS>``), test loss and
  the final train loss on a fixed subset of the training pool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from zoo_builder.adam import adam_init, adam_update
from zoo_builder.fused import fused_logits
from zoo_builder.hparams import model_hparams, model_key
from zoo_builder.model import Seq2Seq
from zoo_builder.presets import TRAINER_REVISION, ZooConfig
from zoo_builder.schedule import lr_factor
from zoo_builder.task import EQUALS, PAD, VOCAB_SIZE, Problems, make_problem_sets

__all__ = [
    "TrainingGroup",
    "training_groups",
    "GroupResult",
    "train_group",
    "GroupPrograms",
    "group_programs",
    "model_mesh",
    "select_devices",
    "block_size",
    "problem_sets",
]


@dataclass(frozen=True)
class TrainingGroup:
    """Models trained together: ``index`` in the zoo's group list, their batch size, ids."""

    index: int
    batch_size: int
    model_ids: tuple[int, ...]


@lru_cache(maxsize=8)
def training_groups(config: ZooConfig) -> tuple[TrainingGroup, ...]:
    """The zoo's training groups: models of each batch size, in id order, chunked by
    ``group_size``. A function of the config only."""
    by_batch: dict[int, list[int]] = {bs: [] for bs in config.batch_sizes}
    for i in range(config.num_models):
        by_batch[model_hparams(config, i).batch_size].append(i)
    groups = []
    for bs in config.batch_sizes:
        ids = by_batch[bs]
        for start in range(0, len(ids), config.group_size):
            chunk = tuple(ids[start : start + config.group_size])
            groups.append(TrainingGroup(len(groups), bs, chunk))
    return tuple(groups)


@lru_cache(maxsize=4)
def problem_sets(config: ZooConfig) -> tuple[Problems, Problems]:
    """The zoo's (test set, training pool)."""
    return make_problem_sets(config.seed, config.max_digits, config.n_test, config.n_train_pool,
                             config.digit_weights, config.operands)


@dataclass(frozen=True)
class GroupResult:
    """Trained weights and labels of one group; arrays have the model axis first."""

    model_ids: tuple[int, ...]
    params: dict  # flax "params" tree, leaves (M, *shape), float32
    test_sr: np.ndarray  # (M,)
    test_loss: np.ndarray  # (M,)
    train_loss: np.ndarray  # (M,)
    sr_at: dict[int, np.ndarray] = field(default_factory=dict)  # step -> (M,) test SR


def _answer_mask(answer: jnp.ndarray) -> jnp.ndarray:
    """1 for answer tokens up to and including the first ``<EOS>``, 0 for padding."""
    return (answer != PAD).astype(jnp.float32)


def token_losses(logits_fn: Callable, params, question, decoder_input,
                 answer) -> jnp.ndarray:
    """Per answer token, the cross-entropy under teacher forcing, 0 after ``<EOS>``.

    ``logits_fn(params, question_onehot, decoder_input_onehot) -> (B, T_a, V)`` is the
    model's forward pass (:func:`flax_logits`); inputs are token ids ``(B, T)``; returns
    ``(B, T_a)``."""
    q = jax.nn.one_hot(question, VOCAB_SIZE)
    d = jax.nn.one_hot(decoder_input, VOCAB_SIZE)
    logits = logits_fn(params, q, d)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, answer.astype(jnp.int32))
    return ce * _answer_mask(answer)


def sequence_loss(logits_fn: Callable, params, question, decoder_input, answer) -> jnp.ndarray:
    """Mean over problems of the summed token cross-entropy (:func:`token_losses`);
    a scalar."""
    return jnp.mean(jnp.sum(token_losses(logits_fn, params, question, decoder_input, answer),
                            axis=1))


def host_sequence_loss(token_ce: np.ndarray) -> np.ndarray:
    """:func:`sequence_loss` from per-token losses ``(..., B, T_a)``, reduced on the host
    in float64 (a fixed order, whatever program computed the tokens) -> ``(...)``
    float32."""
    return np.asarray(token_ce, np.float64).sum(-1).mean(-1).astype(np.float32)


def host_success_rate(success: np.ndarray) -> np.ndarray:
    """Mean of per-problem successes ``(..., N)`` -> ``(...)`` float32 (exact: k / N)."""
    return np.asarray(success, np.float64).mean(-1).astype(np.float32)


def flax_logits(model: Seq2Seq) -> Callable:
    """The teacher-forced forward pass of ``model`` through flax, as a ``logits_fn``."""
    return lambda params, q, d: model.apply({"params": params}, q, d)


def greedy_success(model: Seq2Seq, params, question, answer) -> jnp.ndarray:
    """Per problem, 1.0 if the greedy completion equals the answer up to and including
    ``<EOS>``, else 0.0. ``question (N, T_q)``, ``answer (N, T_a)`` token ids -> ``(N,)``."""
    variables = {"params": params}
    q = jax.nn.one_hot(question, VOCAB_SIZE)
    carry = model.apply(variables, q, method=Seq2Seq.encode)
    token = jnp.full((question.shape[0],), EQUALS, jnp.int32)  # "=" starts decoding
    preds = []
    for _ in range(answer.shape[1]):
        x = jax.nn.one_hot(token, VOCAB_SIZE)
        carry, logits = model.apply(
            variables, carry, x, method=lambda m, c, x: m.decoder(c, x)
        )
        token = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        preds.append(token)
    preds = jnp.stack(preds, axis=1)
    mask = _answer_mask(answer) > 0
    ok = jnp.all(jnp.where(mask, preds == answer.astype(jnp.int32), True), axis=1)
    return ok.astype(jnp.float32)


def model_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh, axis ``"models"``, over ``devices`` (default: every local device of the
    default backend)."""
    devices = list(jax.local_devices() if devices is None else devices)
    if not devices:
        raise ValueError("no devices to build on")
    return Mesh(np.array(devices), ("models",))


def select_devices(count: int | None = None) -> tuple[jax.Device, ...]:
    """The first ``count`` local devices of the default backend (all of them if ``None``);
    ``ValueError`` naming the count if there are fewer."""
    devices = tuple(jax.local_devices())
    if count is None:
        return devices
    if not 1 <= count <= len(devices):
        raise ValueError(
            f"--devices {count}: this host has {len(devices)} {jax.default_backend()} "
            "device(s)"
        )
    return devices[:count]


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

    - ``init(keys (M, 2)) -> (params, opt_state)``, blocked, leaves ``(n_blocks, b, ...)``;
    - ``train_chunk(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a,
      length=n)`` with blocked ``lrs (n_blocks, b)`` and ``keys (n_blocks, b, 2)`` runs
      steps ``start .. start+n-1`` -> ``(params, opt_state, losses (n_blocks, n, b))``;
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

    def step_one(params, opt_state, lr, key, t, pool_q, pool_d, pool_a):
        idx = jax.random.randint(
            jax.random.fold_in(jax.random.fold_in(key, 1), t), (batch_size,), 0, pool_q.shape[0]
        )
        loss, grads = jax.value_and_grad(sequence_loss, argnums=1)(
            logits_fn, params, pool_q[idx], pool_d[idx], pool_a[idx]
        )
        # the constant schedule keeps the exact program of zoos built before schedules
        lr_t = lr if config.lr_schedule == "constant" else \
            lr * lr_factor(config.lr_schedule, t, config.steps)
        params, opt_state = adam_update(grads, opt_state, params, lr_t)
        return params, opt_state, loss

    init_single = jax.jit(init_one)
    programs = GroupPrograms(mesh, block_size(config), None, None, None)

    def init(keys):
        # One model at a time, then stacked: under vmap, flax's orthogonal initialiser
        # becomes a batched QR whose LAPACK kernel waits on XLA's CPU thread pool from
        # inside that pool, which deadlocks on a 2-core machine (tests/zoo_builder/
        # test_model_and_training.py::test_group_initialisation_does_not_deadlock).
        singles = [init_single(key) for key in keys]
        stacked = jax.tree_util.tree_map(lambda *leaves: np.stack(leaves), *singles)
        return jax.tree_util.tree_map(programs.to_blocks, stacked)

    def train_blocks(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, length):
        def one_block(block):
            p, s, lr, key = block

            def body(carry, t):
                p, s = carry
                p, s, loss = jax.vmap(step_one, in_axes=(0, 0, 0, 0, None, None, None, None))(
                    p, s, lr, key, t, pool_q, pool_d, pool_a
                )
                return (p, s), loss

            (p, s), losses = jax.lax.scan(body, (p, s), start + jnp.arange(length))
            return p, s, losses

        return jax.lax.map(one_block, (params, opt_state, lrs, keys))

    @partial(jax.jit, static_argnames=("length",))
    def train_chunk(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a, *, length):
        sharded = jax.shard_map(
            partial(train_blocks, length=length),
            mesh=mesh,
            in_specs=(blocks, blocks, blocks, blocks, shared, shared, shared, shared),
            out_specs=(blocks, blocks, blocks),
        )
        return sharded(params, opt_state, lrs, keys, start, pool_q, pool_d, pool_a)

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
      config: the zoo config.
      group: one of :func:`training_groups` ``(config)`` (or any models sharing a batch
        size, for calibration).
      chunk_steps: steps per compiled scan; ``on_steps(n)`` is called after each chunk
        with the number of steps just done (for progress bars).
      evaluate_at: step counts below ``config.steps`` after which the test SR is also
        measured (``result.sr_at[step]``; for calibration). Chunks end there too, which
        changes nothing in the weights.
      devices: the devices the group's blocks are spread over (default: every local
        device); the result is the same for any choice (see :class:`GroupPrograms`).
    """
    if config.trainer_revision != TRAINER_REVISION:
        raise ValueError(f"config of trainer revision {config.trainer_revision}: this builder "
                         f"trains revision {TRAINER_REVISION} only (different weights)")
    stops = sorted({int(s) for s in evaluate_at})
    if stops and not 0 < stops[0] <= stops[-1] < config.steps:
        raise ValueError(f"evaluate_at {stops}: steps must lie in 1..{config.steps - 1}")
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
    params, opt_state = programs.init(keys)
    block_keys, block_lrs = programs.to_blocks(keys), programs.to_blocks(lrs)
    sr_at = {}
    done = 0
    for stop in [*stops, config.steps]:
        while done < stop:
            n = min(chunk_steps, stop - done)
            params, opt_state, _ = programs.train_chunk(
                params, opt_state, block_lrs, block_keys, done, *pool_arrays, length=n
            )
            done += n
            if on_steps is not None:
                on_steps(n)
        if stop < config.steps:
            sr_at[stop] = programs.labels(programs.evaluate(params, *eval_arrays), m)[0]
    sr, test_loss, train_loss = programs.labels(programs.evaluate(params, *eval_arrays), m)
    return GroupResult(
        model_ids=group.model_ids,
        params=jax.tree_util.tree_map(lambda x: programs.from_blocks(x, m), params),
        test_sr=sr,
        test_loss=test_loss,
        train_loss=train_loss,
        sr_at=sr_at,
    )
