"""The previous :class:`~predictors.unf.UNFLayer` (issue 18's second part), kept for the
speed benchmark (``scripts/unf_layer_speed.py``, its baseline) and as the oracle of the
tests that the library layer computes its function (``test_unf_layer_speedup.py``,
``test_unf_classes.py``). A test oracle, it lives with the tests, outside the installed
package (formerly ``benchmarks/perf/unf_layer_previous.py``).

It evaluates the same plan (:mod:`predictors.unf.plan`) with the same parameters, one
tensor at a time: the ``K`` output tensors of a group (the six ``(H, H)`` kernels of the
GRU, say) get their mixed channels with one ``jnp.split``, every input tensor is reduced
on its own, and every group concatenates the reductions of its input tensors afresh.
The library layer keeps the tensors of equal labels and shape stacked on the channel
axis between layers (:mod:`predictors.unf.classes`), so none of that is done
(docs/BENCHMARKS.md has the timings). The two agree to float32 rounding
(``tests/predictors/test_unf_layer_speedup.py``); trained predictors differ beyond it,
which is why the committed UNF rows were re-made when the library switched.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from predictors.unf.classes import fold_fixed_axes, unfold_fixed_axes
from predictors.unf.layer import flat_features
from predictors.unf.plan import LayerPlan, layer_plan

__all__ = ["UNFLayerPrevious", "UNFNetPrevious", "UNFPrevious"]


class UNFLayerPrevious(nn.Module):
    """The previous library layer (module docstring): same parameters and function as
    :class:`predictors.unf.UNFLayer`."""

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
            width = weights[0].shape[-1]
            mixed = stacked @ jnp.concatenate(weights, axis=-1).astype(stacked.dtype)
            mixed = mixed.reshape((batch, *group.shape, len(group.out_indices) * width))
            pieces = jnp.split(mixed, len(group.out_indices), axis=-1)  # K x (..., w)
            for o, y in zip(group.out_indices, pieces, strict=True):
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


class UNFPrevious(nn.Module):
    """:class:`predictors.unf.UNF` (ReLU after every layer) built on :class:`UNFLayerPrevious`."""

    spec: Any
    channels: tuple[int, ...]

    @nn.compact
    def __call__(self, x: Any) -> Any:
        for k, c in enumerate(self.channels):
            layer = UNFLayerPrevious(self.spec, c, name=f"layer_{k}")
            x = jax.tree_util.tree_map(jax.nn.relu, layer(x))
        return x


class UNFNetPrevious(nn.Module):
    """:class:`predictors.unf_predictor.UNFNet` built on :class:`UNFLayerPrevious`: the same
    parameter tree (``unf/layer_k/...``, ``head/...``), for timing the predictor step
    with the previous layer."""

    spec: Any
    channels: tuple[int, ...] = (16, 16, 16)
    hidden: tuple[int, ...] = (512, 512)

    @nn.compact
    def __call__(self, x: Any) -> jnp.ndarray:
        from predictors.mlp import MLP
        from predictors.unf import invariant_pool

        h = UNFPrevious(self.spec, tuple(self.channels), name="unf")(x)
        return MLP(tuple(self.hidden), name="head")(invariant_pool(h, self.spec))
