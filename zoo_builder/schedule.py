"""Learning-rate schedules: the factor that scales a model's learning rate at each step.

For a model with learning rate ``lr`` trained for ``S`` steps, step ``t = 0 .. S-1`` uses
``lr * factor(t)``:

- ``"constant"``: ``factor(t) = 1``;
- ``"cosine"``: ``factor(t) = (1 + cos(pi t / S)) / 2``, from 1 at the first step down to
  almost 0 at the last (cosine decay without warm-up, as ``optax.cosine_decay_schedule``
  with ``alpha = 0``).

The sampled learning rate is therefore always the peak rate.
"""

from __future__ import annotations

import jax.numpy as jnp

from zoo_data.rnn.presets import SCHEDULES

__all__ = ["lr_factor"]


def lr_factor(schedule: str, step, total_steps: int):
    """``factor(step)`` (float32 array shaped like ``step``) of ``schedule`` over
    ``total_steps``; ``ValueError`` for an unknown schedule."""
    if schedule == "constant":
        return jnp.ones_like(jnp.asarray(step), jnp.float32)
    if schedule == "cosine":
        frac = jnp.asarray(step, jnp.float32) / float(total_steps)
        return 0.5 * (1.0 + jnp.cos(jnp.pi * frac))
    raise ValueError(f"lr_schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}")
