"""A candidate :class:`~predictors.unf.UNFLayer` from issue 18, measured and not adopted.

It evaluates the same plan (:mod:`predictors.unf.plan`) but cuts each group's mixed
channels into its output tensors with one ``jnp.split`` (backward: one concatenation)
instead of one slice per output tensor (whose backward pads every slice to full width).
It computes the same function with the same parameters (to float32 rounding,
``tests/predictors/test_unf_layer_speedup.py``) and makes the UNF predictor step 1.47x
faster (docs/BENCHMARKS.md), but the rounding differences change trained predictors
beyond rounding (mini, UNF seed 1: test tau 0.4217 against 0.4374), so adopting it means
re-making every committed UNF row; until then the library keeps its layer and the
benchmark :mod:`benchmarks.perf.unf_layer_speed` times this one beside it.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from predictors.unf.layer import flat_features, fold_fixed_axes, unfold_fixed_axes
from predictors.unf.plan import LayerPlan, layer_plan

__all__ = ["UNFLayerSplit", "UNFNetSplit", "UNFSplit"]


class UNFLayerSplit(nn.Module):
    """Linear layer equivariant to the neuron permutations of ``spec`` (Eq. 30).

    For each output tensor ``l``: one ``c_out x c_in`` matrix per basis term (stored
    in ``theta_l``, see :mod:`predictors.unf.plan`) and one bias ``b_l`` per channel
    (per fixed position too, if the tensor has ``None`` axes).

    Evaluation (the plan of :mod:`predictors.unf.plan`): for each group ``g`` of terms
    sharing an output pattern, with ``K`` output tensors of equal labels and shape,

        stacked_g = concat_t E_t(X^{m_t})              (B, *reduced, sum_t F_{m_t} c_in)
        mixed_g   = stacked_g @ [theta_l1 | .. | theta_lK][rows of g]   (B, *reduced, K w)
        Y^{l_k}  += mask_g * broadcast(split(mixed_g, K)[k])  (w = F_l c_out channels)

    and ``Y^l + b^l`` is unfolded back to ``(B, *axes_l, c_out)``. Each reduction
    ``E_t(X^m)`` is evaluated once per layer call and reused by every group and output
    tensor that needs it. The mixed channels are cut into the ``K`` outputs with
    ``jnp.split``, whose backward pass is one concatenation of the ``K`` cotangents;
    slicing them one by one (as the previous version did) made the backward pass pad
    every slice back to the full ``K w`` width and add ``K`` full-size arrays.

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
        biases = [
            self.param(f"bias_{i}", nn.initializers.zeros_init(), (*t.fixed_shape, self.features))
            for i, t in enumerate(tensors)
        ]

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
            y = outs[i] + biases[i].reshape(-1).astype(outs[i].dtype)
            y = jnp.broadcast_to(y, (batch, *t.permuted_shape, y.shape[-1]))
            results.append(unfold_fixed_axes(y, t))
        return jax.tree_util.tree_unflatten(treedef, [results[i] for i in order])


class UNFSplit(nn.Module):
    """:class:`predictors.unf.UNF` (ReLU after every layer) built on :class:`UNFLayerSplit`."""

    spec: Any
    channels: tuple[int, ...]

    @nn.compact
    def __call__(self, x: Any) -> Any:
        for k, c in enumerate(self.channels):
            layer = UNFLayerSplit(self.spec, c, name=f"layer_{k}")
            x = jax.tree_util.tree_map(jax.nn.relu, layer(x))
        return x


class UNFNetSplit(nn.Module):
    """:class:`predictors.unf_predictor.UNFNet` built on :class:`UNFLayerSplit`: the same
    parameter tree (``unf/layer_k/...``, ``head/...``), for timing the predictor step
    with the candidate layer."""

    spec: Any
    channels: tuple[int, ...] = (16, 16, 16)
    hidden: tuple[int, ...] = (512, 512)

    @nn.compact
    def __call__(self, x: Any) -> jnp.ndarray:
        from predictors.mlp import MLP
        from predictors.unf import invariant_pool

        h = UNFSplit(self.spec, tuple(self.channels), name="unf")(x)
        return MLP(tuple(self.hidden), name="head")(invariant_pool(h, self.spec))
