"""Deep Sets baseline: each tensor as an unordered set of its entries.

For every tensor ``l`` with entries ``x_1..x_n`` (``(B, n, 1)`` after flattening), three
permutation-equivariant Deep Sets layers (Zaheer et al., 2017)

    h_i <- ReLU(h_i A + mean_j(h_j) G + b)        (16 channels each)

then the mean over the entries gives ``(B, 16)`` per tensor; the 22 vectors are
concatenated (sorted path order) into a 3-layer MLP (512, 512, 1). Each tensor has
its own layers. The result is invariant to ANY permutation of each tensor's entries,
a much larger group than the GRU's hidden-unit symmetry, so it cannot see which
entries share a neuron: the baseline that shows what the weight-space structure buys.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.traverse_util import flatten_dict

from predictors.base import Predictor
from predictors.mlp import MLP

__all__ = ["DeepSetLayer", "DeepSetsNet", "DeepSets"]


class DeepSetLayer(nn.Module):
    """``(B, n, c_in) -> (B, n, c_out)``: ``h A + mean_n(h) G + b``, equivariant to any
    permutation of the ``n`` set elements."""

    features: int

    @nn.compact
    def __call__(self, h: jnp.ndarray) -> jnp.ndarray:
        own = nn.Dense(self.features, name="elementwise")(h)
        pooled = nn.Dense(self.features, use_bias=False, name="pooled")(
            jnp.mean(h, axis=1, keepdims=True))
        return own + pooled


class DeepSetsNet(nn.Module):
    """Per tensor: Deep Sets layers + mean pooling; then an MLP on the concatenation."""

    channels: Sequence[int] = (16, 16, 16)
    hidden: Sequence[int] = (512, 512)

    @nn.compact
    def __call__(self, x: Any) -> jnp.ndarray:
        flat = flatten_dict(x, sep="/") if isinstance(x, dict) else x
        pooled = []
        for k, path in enumerate(sorted(flat)):
            leaf = flat[path]
            h = leaf.reshape(leaf.shape[0], -1, leaf.shape[-1])  # (B, n, C)
            for j, c in enumerate(self.channels):
                h = jax.nn.relu(DeepSetLayer(c, name=f"t{k}_layer{j}")(h))
            pooled.append(jnp.mean(h, axis=1))
        return MLP(tuple(self.hidden), name="head")(jnp.concatenate(pooled, axis=-1))


class DeepSets(Predictor):
    """Deep Sets over each tensor's entries (16 channels x 3 layers), 3-layer MLP."""

    name = "deep-sets"
    display_name = "Deep Sets"

    def module(self, spec: Any) -> nn.Module:
        return DeepSetsNet()
