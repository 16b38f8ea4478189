"""The universal equivariant layer (paper, Eqs. 26-30) and deep UNFs built from it.

Shapes: a weight-space *feature* is a pytree with the spec's structure whose leaves are
``(batch, *axes, channels)``. :class:`UNFLayer` maps ``(B, *axes, c_in)`` leaves to
``(B, *axes, c_out)`` leaves and is equivariant: for every neuron permutation ``s``
acting on the labelled axes, ``layer(s . X) == s . layer(X)``.

Axes labelled ``None`` are not permuted. Each of their positions is treated separately:
they are folded into the channel axis (``(B, *perm, *fixed, C) -> (B, *perm, F*C)`` with
``F`` the number of fixed positions), so a term between tensors ``m -> l`` mixes
``F_m * c_in`` channels into ``F_l * c_out``. That is the most general linear map
equivariant to the remaining permutations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from predictors.unf.plan import LayerPlan, layer_plan
from predictors.unf.spec import TensorSpec, match_spec, path_to_str

__all__ = ["UNFLayer", "UNF", "nf_relu", "fold_fixed_axes", "unfold_fixed_axes", "flat_features"]


def fold_fixed_axes(x: jnp.ndarray, t: TensorSpec) -> jnp.ndarray:
    """``(B, *axes, C) -> (B, *permuted_axes, fold * C)``: move ``None`` axes into channels."""
    if not t.fixed_axes:
        return x
    order = (0, *(1 + a for a in t.permuted_axes), *(1 + a for a in t.fixed_axes), x.ndim - 1)
    x = jnp.transpose(x, order)
    return x.reshape((x.shape[0], *t.permuted_shape, t.fold * x.shape[-1]))


def unfold_fixed_axes(y: jnp.ndarray, t: TensorSpec) -> jnp.ndarray:
    """Inverse of :func:`fold_fixed_axes`: ``(B, *permuted_axes, fold * C) -> (B, *axes, C)``."""
    if not t.fixed_axes:
        return y
    c = y.shape[-1] // t.fold
    y = y.reshape((y.shape[0], *t.permuted_shape, *t.fixed_shape, c))
    order = (0, *(1 + a for a in t.permuted_axes), *(1 + a for a in t.fixed_axes), y.ndim - 1)
    inverse = [0] * len(order)
    for pos, axis in enumerate(order):
        inverse[axis] = pos
    return jnp.transpose(y, inverse)


def flat_features(spec: Any, x: Any) -> tuple[list[TensorSpec], list[jnp.ndarray], Any, list]:
    """Match features to the spec; return tensors, leaves in spec order, treedef, and the
    spec index of every leaf in the features' own flattening order."""
    tensors = match_spec(spec, x, leading=1, trailing=1)
    flat, treedef = jax.tree_util.tree_flatten_with_path(x)
    index = {t.path: i for i, t in enumerate(tensors)}
    order = [index[path_to_str(p)] for p, _ in flat]
    leaves = [None] * len(tensors)
    for (_, leaf), i in zip(flat, order, strict=True):
        leaves[i] = leaf
    batch = {leaf.shape[0] for leaf in leaves}
    channels = {leaf.shape[-1] for leaf in leaves}
    if len(batch) > 1:
        raise ValueError(f"features disagree on the batch size: {sorted(batch)}")
    if len(channels) > 1:
        raise ValueError(f"features disagree on the channel count: {sorted(channels)}")
    return tensors, leaves, treedef, order


class UNFLayer(nn.Module):
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


def nf_relu(x: Any) -> Any:
    """Pointwise ReLU on every tensor of a weight-space feature (equivariant)."""
    return jax.tree_util.tree_map(jax.nn.relu, x)


class UNF(nn.Module):
    """A universal neural functional: ``UNFLayer -> ReLU -> ... -> UNFLayer``.

    Attributes:
      spec: the weight-space spec.
      channels: output channels of each layer (e.g. ``(16, 16, 16)``).
      final_activation: apply ReLU after the last layer too (for invariant pooling).
    """

    spec: Any
    channels: Sequence[int]
    final_activation: bool = True

    @nn.compact
    def __call__(self, x: Any) -> Any:
        for k, c in enumerate(self.channels):
            x = UNFLayer(self.spec, c, name=f"layer_{k}")(x)
            if k < len(self.channels) - 1 or self.final_activation:
                x = nf_relu(x)
        return x
