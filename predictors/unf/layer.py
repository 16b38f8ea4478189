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

from predictors.unf.classes import (
    ClassPlan,
    class_plan,
    fold_fixed_axes,
    stack,
    unfold_fixed_axes,
    unstack,
)
from predictors.unf.spec import TensorSpec, match_spec, path_to_str

__all__ = ["UNFLayer", "UNF", "nf_relu", "fold_fixed_axes", "unfold_fixed_axes", "flat_features"]


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


def on_classes(spec: Any, x: Any, fn) -> Any:
    """Apply ``fn(class_arrays, class_plan) -> class_arrays`` to per-tensor features:
    stack ``x`` into classes (:func:`~predictors.unf.classes.stack`), call ``fn``, and
    unstack its result into a pytree of ``x``'s structure."""
    tensors, leaves, treedef, order = flat_features(spec, x)
    cplan = class_plan(tuple(tensors))
    results = unstack(fn(stack(leaves, cplan), cplan), cplan)
    return jax.tree_util.tree_unflatten(treedef, [results[i] for i in order])


class UNFLayer(nn.Module):
    """Linear layer equivariant to the neuron permutations of ``spec`` (Eq. 30).

    For each output tensor ``l``: one ``c_out x c_in`` matrix per basis term (stored
    in ``theta_l``, see :mod:`predictors.unf.plan`) and one bias ``b_l`` per channel
    (per fixed position too, if the tensor has ``None`` axes).

    Evaluation, on the class arrays of :mod:`predictors.unf.classes` (tensors of equal
    labels and shape side by side on the channel axis, ``X^c`` of shape
    ``(B, *shape_c, K_c F_c c_in)``): for each group ``g`` of terms sharing an output
    pattern, on output class ``o`` with ``K_o`` members of ``w = F_o c_out`` channels,

        stacked_g = concat_j E_j(X^{c_j})     (B, *reduced, sum_j K_j F_j c_in)
        Theta_g   = [theta_l1 | .. | theta_lK][rows of g, in stacked order]
        Y^o      += mask_g * broadcast(stacked_g @ Theta_g)    (B, *shape_o, K_o w)

    and ``Y^o + [b_l1 | .. | b_lK]`` is the output class. Each reduction ``E_j(X^c)``
    is evaluated once per layer call, for all members of the class at once, and reused
    by every group that needs it.

    :meth:`__call__` takes and returns per-tensor features; :meth:`stacked` takes and
    returns class arrays, so that a deep :class:`UNF` stacks once and never splits or
    concatenates between layers.

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

    def __call__(self, x: Any) -> Any:
        """Per-tensor features ``(B, *axes_l, c_in)`` to ``(B, *axes_l, c_out)``."""
        return on_classes(self.spec, x, self.stacked)

    @nn.compact
    def stacked(self, xs: tuple[jnp.ndarray, ...], cplan: ClassPlan) -> tuple[jnp.ndarray, ...]:
        """Class arrays ``(B, *shape_c, K_c F_c c_in)`` to ``(B, *shape_c, K_c F_c c_out)``."""
        plan, tensors = cplan.plan, cplan.tensors
        batch = xs[0].shape[0]
        c_in = xs[0].shape[-1] // cplan.width(0, 1)

        thetas, biases = [], []
        for i, t in enumerate(tensors):
            fan_in = max(plan.dense_units[i], 1) * c_in
            std = math.sqrt(self.gain / fan_in)
            shape = (plan.units[i] * c_in, t.fold * self.features)
            thetas.append(
                self.param(f"theta_{i}", nn.initializers.normal(stddev=std), shape, jnp.float32)
            )
        for i, t in enumerate(tensors):  # after every theta: parameters draw keys in order
            biases.append(self.param(f"bias_{i}", nn.initializers.zeros_init(),
                                     (*t.fixed_shape, self.features)))
        # per output class: its members' coefficients side by side, (units, c_in, K w)
        class_theta = []
        for ms in cplan.members:
            theta = jnp.concatenate([thetas[m] for m in ms], axis=-1) if len(ms) > 1 \
                else thetas[ms[0]]
            class_theta.append(theta.reshape(plan.units[ms[0]], c_in, theta.shape[-1]))

        reduced: dict[tuple[int, str], jnp.ndarray] = {}
        outs: list[jnp.ndarray | None] = [None] * len(cplan.members)
        for group in cplan.groups:
            parts = []
            for c, term in group.parts:
                key = (c, term.reduce_subscripts)
                if key not in reduced:
                    reduced[key] = term.reduce(xs[c])
                parts.append(reduced[key])
            stacked = parts[0] if len(parts) == 1 else jnp.concatenate(parts, axis=-1)
            theta = class_theta[group.out_class][group.units]  # (rows / c_in, c_in, K w)
            y = stacked @ theta.reshape(-1, theta.shape[-1]).astype(stacked.dtype)
            y = y.reshape((batch, *group.shape, theta.shape[-1]))
            o = group.out_class
            mask = group.mask(cplan.representative(o).permuted_shape, y.dtype)
            if mask is not None:
                y = y * mask
            outs[o] = y if outs[o] is None else outs[o] + y

        results = []
        for o, ms in enumerate(cplan.members):
            bias = jnp.concatenate([biases[m].reshape(-1) for m in ms])
            y = outs[o] + bias.astype(outs[o].dtype)
            results.append(jnp.broadcast_to(
                y, (batch, *cplan.representative(o).permuted_shape, y.shape[-1])))
        return tuple(results)


def nf_relu(x: Any) -> Any:
    """Pointwise ReLU on every tensor of a weight-space feature (equivariant)."""
    return jax.tree_util.tree_map(jax.nn.relu, x)


class UNF(nn.Module):
    """A universal neural functional: ``UNFLayer -> ReLU -> ... -> UNFLayer``.

    :meth:`__call__` maps per-tensor features to per-tensor features; :meth:`stacked`
    maps class arrays (:mod:`predictors.unf.classes`) to class arrays, stacking nothing
    between layers (the UNF predictor pools them directly,
    :func:`predictors.unf.pool.pool_classes`).

    Attributes:
      spec: the weight-space spec.
      channels: output channels of each layer (e.g. ``(16, 16, 16)``).
      final_activation: apply ReLU after the last layer too (for invariant pooling).
    """

    spec: Any
    channels: Sequence[int]
    final_activation: bool = True

    def __call__(self, x: Any) -> Any:
        return on_classes(self.spec, x, self.stacked)

    @nn.compact
    def stacked(self, xs: tuple[jnp.ndarray, ...], cplan: ClassPlan) -> tuple[jnp.ndarray, ...]:
        """Class arrays with ``c_in`` channels to class arrays with ``channels[-1]``."""
        for k, c in enumerate(self.channels):
            xs = UNFLayer(self.spec, c, name=f"layer_{k}").stacked(xs, cplan)
            if k < len(self.channels) - 1 or self.final_activation:
                xs = tuple(jax.nn.relu(x) for x in xs)
        return xs
