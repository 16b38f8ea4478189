"""The UNF predictor: equivariant layers on the zoo's weight space, invariant pooling,
an MLP.

``X`` (the weights, ``(B, *tensor_shape, 1)`` per tensor) is stacked once into class
arrays (:mod:`predictors.unf.classes`: tensors of equal labels and shape side by side),
goes through three :class:`~predictors.unf.UNFLayer` s with 16 channels and ReLU on
those arrays, then :func:`~predictors.unf.pool_classes` (mean over each tensor's
permuted axes, ``(B, 22 * 16)`` in spec order, as :func:`~predictors.unf.invariant_pool`),
then a 3-layer MLP ``Dense(512) -> ReLU -> Dense(512) -> ReLU -> Dense(1)``. Invariant
to every neuron permutation of the spec, so in particular to the GRU's true hidden-unit
symmetry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from predictors.base import Predictor
from predictors.mlp import MLP
from predictors.unf import UNF
from predictors.unf.classes import class_plan, stack
from predictors.unf.layer import flat_features
from predictors.unf.pool import pool_classes
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["UNFNet", "UNFPredictor"]


class UNFNet(nn.Module):
    """``UNF(channels) -> invariant_pool -> MLP(hidden)``: weights -> ``(B,)`` logits."""

    spec: Any
    channels: Sequence[int] = (16, 16, 16)
    hidden: Sequence[int] = (512, 512)

    @nn.compact
    def __call__(self, x: Any) -> jnp.ndarray:
        tensors, leaves, _, _ = flat_features(self.spec, x)
        cplan = class_plan(tuple(tensors))
        h = UNF(self.spec, tuple(self.channels), name="unf").stacked(stack(leaves, cplan), cplan)
        return MLP(tuple(self.hidden), name="head")(pool_classes(h, cplan))


class UNFPredictor(Predictor):
    """3 UNF layers (16 channels, ReLU), invariant pooling, 3-layer MLP (512 hidden)."""

    name = "unf"
    display_name = "UNF"
    channels: tuple[int, ...] = (16, 16, 16)
    hidden: tuple[int, ...] = (512, 512)

    def bind(self, config: ZooConfigLike) -> None:
        """The sizes the zoo's family asks for, so the row compares with its published one
        (:meth:`~zoo_data.families.base.ZooFamily.predictor_sizes`: on a Small CNN Zoo
        NFN-HNP's, equivariant channels 16, 16, 5 and a head of two hidden layers of
        1,000, as in NFN's Table 2); the class's own otherwise."""
        sizes = family_of(config).predictor_sizes(config).get(self.name, {})
        self.channels = tuple(sizes.get("channels", type(self).channels))
        self.hidden = tuple(sizes.get("hidden", type(self).hidden))

    def module(self, spec: Any) -> nn.Module:
        return UNFNet(spec, self.channels, self.hidden)
