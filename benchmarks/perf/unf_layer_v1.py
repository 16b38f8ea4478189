"""The previous :class:`~predictors.unf.UNFLayer` (commit 7f16750), kept as a reference.

The benchmark :mod:`benchmarks.perf.unf_layer_speed` times it beside the current layer,
and ``tests/predictors/test_unf_layer_speedup.py`` checks that the two compute the same
function (and gradients) with the same parameters. It is not used by any predictor.

It evaluates the plan of :mod:`predictors.unf.plan` group by group and adds every
group's output to each of its output tensors separately, slicing the group's mixed
channels per output tensor (whose backward pass pads every slice back to full width).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from predictors.unf.layer import flat_features, fold_fixed_axes, unfold_fixed_axes
from predictors.unf.plan import LayerPlan, layer_plan

__all__ = ["UNFLayerV1", "UNFNetV1", "UNFV1"]


class UNFLayerV1(nn.Module):
    """Linear layer equivariant to the neuron permutations of ``spec`` (Eq. 30).

    For each output tensor ``l``: one ``c_out x c_in`` matrix per basis term (stored
    in ``theta_l``, see :mod:`predictors.unf.plan`) and one bias ``b_l`` per channel
    (per fixed position too, if the tensor has ``None`` axes).

    Initialisation: ``lambda ~ N(0, gain / fan_in_l)`` with ``fan_in_l`` the number of
    input channels feeding a generic (off-diagonal) output entry, ``b = 0``. With
    ``gain=2`` the second moment of unit-scale inputs is kept through ReLU stacks.

    Attributes:
      spec: the weight-space spec (labels of the axes between batch and channels).
      features: ``c_out``.
      gain: variance gain of the initialisation.
    """

    spec: Any
    features: int
    gain: float = 2.0

    @nn.compact
    def __call__(self, x: Any) -> Any:
        tensors, leaves, treedef, order = flat_features(self.spec, x)
        plan: LayerPlan = layer_plan(tuple(tensors))
        c_in = leaves[0].shape[-1]
        batch = leaves[0].shape[0]
        folded = [fold_fixed_axes(leaf, t) for leaf, t in zip(leaves, tensors, strict=True)]

        thetas = []
        for i, t in enumerate(tensors):
            fan_in = max(plan.dense_units[i], 1) * c_in
            std = math.sqrt(self.gain / fan_in)
            shape = (plan.units[i] * c_in, t.fold * self.features)
            thetas.append(
                self.param(f"theta_{i}", nn.initializers.normal(stddev=std), shape, jnp.float32)
            )

        reduced: dict[tuple[int, str], jnp.ndarray] = {}
        outs: list[jnp.ndarray | None] = [None] * len(tensors)
        for group in plan.groups:
            parts = []
            for pt in group.terms:
                key = (pt.in_index, pt.term.reduce_subscripts)
                if key not in reduced:
                    reduced[key] = pt.term.reduce(folded[pt.in_index])
                parts.append(reduced[key])
            stacked = parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=-1)
            start, stop = group.row_units
            weights = [thetas[o][start * c_in : stop * c_in] for o in group.out_indices]
            mixed = stacked @ jnp.concatenate(weights, axis=-1).astype(stacked.dtype)
            width = weights[0].shape[-1]
            for k, o in enumerate(group.out_indices):
                y = mixed[..., k * width : (k + 1) * width]
                y = y.reshape((batch, *group.shape, width))
                if group.mask is not None:
                    y = y * group.mask.astype(y.dtype)
                outs[o] = y if outs[o] is None else outs[o] + y

        results = []
        for i, t in enumerate(tensors):
            bias = self.param(
                f"bias_{i}", nn.initializers.zeros_init(), (*t.fixed_shape, self.features)
            )
            y = outs[i] + bias.reshape(-1).astype(outs[i].dtype)
            y = jnp.broadcast_to(y, (batch, *t.permuted_shape, y.shape[-1]))
            results.append(unfold_fixed_axes(y, t))
        return jax.tree_util.tree_unflatten(treedef, [results[i] for i in order])



class UNFV1(nn.Module):
    """:class:`predictors.unf.UNF` (ReLU after every layer) built on :class:`UNFLayerV1`."""

    spec: Any
    channels: tuple[int, ...]

    @nn.compact
    def __call__(self, x: Any) -> Any:
        for k, c in enumerate(self.channels):
            x = jax.tree_util.tree_map(jax.nn.relu, UNFLayerV1(self.spec, c, name=f"layer_{k}")(x))
        return x


class UNFNetV1(nn.Module):
    """:class:`predictors.unf_predictor.UNFNet` built on :class:`UNFLayerV1`: the same
    parameter tree (``unf/layer_k/...``, ``head/...``), for timing the predictor step
    as it was."""

    spec: Any
    channels: tuple[int, ...] = (16, 16, 16)
    hidden: tuple[int, ...] = (512, 512)

    @nn.compact
    def __call__(self, x: Any) -> jnp.ndarray:
        from predictors.mlp import MLP
        from predictors.unf import invariant_pool

        h = UNFV1(self.spec, tuple(self.channels), name="unf")(x)
        return MLP(tuple(self.hidden), name="head")(invariant_pool(h, self.spec))
