"""The protocol's compiled programs (:mod:`benchmarks.protocol`): the predictor's
forward pass and its Adam step on the binary cross-entropy, one step per call or many
(``AdamStep.scan``, a ``lax.scan`` over a chunk of batches), compiled once per predictor
instance and shared by the seeds of a benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax

from predictors.base import Predictor

__all__ = ["AdamStep", "compiled_init", "training_programs"]


@dataclass(frozen=True)
class AdamStep:
    """The protocol's optimizer, one ``optax.adam``: ``init(variables)`` is its initial
    state and ``step(variables, opt_state, feats, sr) -> (variables, opt_state, loss)``
    one jitted step of it on ``loss``, the mean binary cross-entropy between
    ``sigmoid(logit)`` and ``sr (B,)``."""

    optimizer: optax.GradientTransformation
    update: Callable
    #: ``scan(variables, opt_state, feats (S, B, ...), sr (S, B)) -> (variables,
    #: opt_state, losses (S,))``: ``S`` steps of ``update`` in one compiled call.
    scan: Callable

    def init(self, variables: Any) -> Any:
        return self.optimizer.init(variables)

    def __call__(self, variables, opt_state, feats, sr):
        return self.update(variables, opt_state, feats, sr)


def training_programs(predictor: Predictor, module, learning_rate: float):
    """``(apply, jitted apply, step)`` for ``module``, cached on the predictor instance so
    that the seeds of one benchmark compile them once.

    ``apply(variables, feats) -> (B,)`` logits; ``step`` the :class:`AdamStep` of
    ``learning_rate`` (``step.init(variables)``, ``step(variables, opt_state, feats,
    sr)``, and ``step.scan`` for many steps in one call)."""
    cache = predictor.__dict__.setdefault("_tinyzoo_programs", {})
    key = (repr(module), learning_rate)
    if key not in cache:
        optimizer = optax.adam(learning_rate)

        def apply(variables, feats):
            return module.apply(variables, feats).reshape(-1)

        def one_step(variables, opt_state, feats, sr):
            def loss_fn(v):
                return jnp.mean(optax.sigmoid_binary_cross_entropy(apply(v, feats), sr))

            loss, grads = jax.value_and_grad(loss_fn)(variables)
            updates, opt_state = optimizer.update(grads, opt_state, variables)
            return optax.apply_updates(variables, updates), opt_state, loss

        @jax.jit
        def scan(variables, opt_state, feats, sr):
            def body(carry, batch):
                variables, opt_state, loss = one_step(*carry, *batch)
                return (variables, opt_state), loss

            (variables, opt_state), losses = jax.lax.scan(body, (variables, opt_state),
                                                          (feats, sr))
            return variables, opt_state, losses

        cache[key] = (apply, jax.jit(apply),
                      AdamStep(optimizer, jax.jit(one_step), scan))
    return cache[key]


def compiled_init(predictor: Predictor, module) -> Callable:
    """``jax.jit(module.init)``, cached on the predictor instance like
    :func:`training_programs`: initialising a large network (UNF) op by op takes longer
    than compiling it."""
    cache = predictor.__dict__.setdefault("_tinyzoo_init", {})
    key = repr(module)
    if key not in cache:
        cache[key] = jax.jit(module.init)
    return cache[key]
