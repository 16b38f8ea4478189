"""A plain ReLU MLP head (flax), shared by the predictors."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

__all__ = ["MLP"]


class MLP(nn.Module):
    """``x (B, F) -> (B,)``: ``Dense(h_1) -> ReLU -> ... -> Dense(h_k) -> ReLU -> Dense(1)``.

    Attributes:
      hidden: the widths ``h_1..h_k`` of the hidden layers (``()`` for a linear model).
    """

    hidden: Sequence[int]

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        for k, width in enumerate(self.hidden):
            x = jax.nn.relu(nn.Dense(width, name=f"dense_{k}")(x))
        return nn.Dense(1, name="out")(x)[..., 0]
