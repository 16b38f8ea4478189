"""STATNN (Unterthiner et al., 2020): weight statistics into an MLP.

Features, per tensor ``W`` (all its entries): mean, variance and the 0/25/50/75/100
percentiles, i.e. 7 numbers; concatenated over the zoo's 22 tensors in the spec's
sorted path order: ``(B, 22 * 7) = (B, 154)``. They are standardised with the train
split's statistics. The head is a 6-layer MLP of width 600: five hidden
``Dense(600) + ReLU`` layers and a ``Dense(1)`` output.
Also the features of the linear baseline (:mod:`predictors.baselines`).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import numpy as np
from flax.traverse_util import flatten_dict

from predictors.base import Predictor
from predictors.mlp import MLP

__all__ = ["STAT_NAMES", "weight_statistics", "STATNN"]

STAT_NAMES = ("mean", "var", "q0", "q25", "q50", "q75", "q100")


def weight_statistics(params: dict) -> np.ndarray:
    """``(B, 7 * T)``: the :data:`STAT_NAMES` of each of the ``T`` tensors of a batch
    (leaves ``(B, ...)``), tensors in sorted path order, statistics innermost."""
    flat = flatten_dict(params, sep="/")
    columns = []
    for path in sorted(flat):
        x = np.asarray(flat[path], np.float64)
        x = x.reshape(x.shape[0], -1)
        q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0], axis=1)  # (5, B)
        columns.append(np.stack([x.mean(1), x.var(1), *q], axis=1))  # (B, 7)
    return np.concatenate(columns, axis=1).astype(np.float32)


class STATNN(Predictor):
    """Statistics of every tensor into a 6-layer MLP of width 600."""

    name = "statnn"
    display_name = "STATNN"
    cache_features = True
    standardize_features = True
    hidden: tuple[int, ...] = (600,) * 5

    def features(self, params: dict, spec: Any) -> np.ndarray:
        return weight_statistics(params)

    def module(self, spec: Any) -> nn.Module:
        return MLP(self.hidden)
