"""Adam, written so that its floating-point program cannot depend on how it is compiled.

For parameters ``p``, gradients ``g``, step ``t = 1, 2, ...`` and learning rate ``lr``:

    m_t = b1 m_{t-1} + (1 - b1) g
    v_t = b2 v_{t-1} + (1 - b2) g^2
    p_t = p_{t-1} - a_t m_t / (sqrt(v_t) + e_t),
    a_t = lr sqrt(1 - b2^t) / (1 - b1^t),   e_t = eps sqrt(1 - b2^t).

In real arithmetic this is exactly optax's ``adam`` (``lr m^ / (sqrt(v^) + eps)`` with the
bias-corrected ``m^ = m / (1 - b1^t)``, ``v^ = v / (1 - b2^t)``); it is Kingma and Ba's
own "more efficient" ordering. The reason for writing it out: XLA's algebraic simplifier
rewrites ``x / broadcast(1 - b1^t)`` into a reciprocal-multiply in some compilations and
into ``x / ((1 - b1^t) * ...)`` in others (a sharded ``shard_map`` program over 2
devices versus the same program on 1), which changes the last bit of every update. Here
the per-model scalars ``a_t`` and ``e_t`` are computed first and fenced with
``optimization_barrier``, and the tensor expression has no division by a broadcast, so
every compilation of the training step computes the same bits.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["AdamState", "adam_init", "adam_update"]


class AdamState(NamedTuple):
    """``count``: steps taken (int32 scalar); ``mu``, ``nu``: first and second moments,
    pytrees shaped like the parameters."""

    count: jax.Array
    mu: dict
    nu: dict


def adam_init(params) -> AdamState:
    """Zero moments and a zero step count for ``params``."""
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return AdamState(jnp.zeros((), jnp.int32), zeros, zeros)


def adam_update(grads, state: AdamState, params, lr, b1: float = 0.9, b2: float = 0.999,
                eps: float = 1e-8):
    """One Adam step (module docstring) -> ``(new params, new state)``."""
    count = state.count + 1
    t = count.astype(jnp.float32)
    mu = jax.tree_util.tree_map(lambda m, g: b1 * m + (1.0 - b1) * g, state.mu, grads)
    nu = jax.tree_util.tree_map(lambda v, g: b2 * v + (1.0 - b2) * (g * g), state.nu, grads)
    root = jnp.sqrt(1.0 - b2**t)
    step_size, eps_t = jax.lax.optimization_barrier((lr * root / (1.0 - b1**t), eps * root))
    new_params = jax.tree_util.tree_map(
        lambda p, m, v: p - step_size * (m / (jnp.sqrt(v) + eps_t)), params, mu, nu
    )
    return new_params, AdamState(count, mu, nu)
