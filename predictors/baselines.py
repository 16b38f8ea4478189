"""Baselines that tell whether a benchmark number means anything.

- :class:`Constant`: one learned bias (it converges to the logit of the train split's
  mean SR); every model gets the same prediction, so its Kendall's tau is undefined
  (NaN) and its R² is about 0: the floor of the table.
- :class:`LinearStats`: a linear model (``Dense(1)``) on the standardised STATNN
  features: how much of STATNN's score a linear read-out of the statistics gets.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from predictors.base import Predictor
from predictors.mlp import MLP
from predictors.statnn import weight_statistics

__all__ = ["Constant", "LinearStats"]


class _Bias(nn.Module):
    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        bias = self.param("bias", nn.initializers.zeros_init(), ())
        return jnp.broadcast_to(bias, (x.shape[0],))


class Constant(Predictor):
    """The same logit for every model (a single trained bias)."""

    name = "constant"
    display_name = "Constant (train mean)"
    cache_features = True

    def features(self, params: dict, spec: Any) -> np.ndarray:
        leaf = next(iter(_leaves(params)))
        return np.zeros((leaf.shape[0], 1), np.float32)

    def module(self, spec: Any) -> nn.Module:
        return _Bias()


class LinearStats(Predictor):
    """``Dense(1)`` on the standardised STATNN statistics."""

    name = "linear-stats"
    display_name = "Linear on STATNN features"
    cache_features = True
    standardize_features = True

    def features(self, params: dict, spec: Any) -> np.ndarray:
        return weight_statistics(params)

    def module(self, spec: Any) -> nn.Module:
        return MLP(())


def _leaves(tree):
    import jax

    return jax.tree_util.tree_leaves(tree)
