"""Invariant pooling: weight-space features to a flat vector that no neuron permutation
changes.

For each tensor ``(B, *axes, C)``, average over its permuted axes; a ``None`` axis is
not permuted, so its positions are kept as separate features. The results are
concatenated in the spec's flattening order:

    pool(X) = concat_l  mean_{permuted axes of l} X^l   ->  (B, sum_l F_l * C)

with ``F_l`` the number of fixed positions of tensor ``l`` (1 without ``None`` axes).
:func:`pool_classes` computes the same vector from class arrays
(:mod:`predictors.unf.classes`).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from predictors.unf.classes import ClassPlan, fold_fixed_axes
from predictors.unf.layer import flat_features

__all__ = ["invariant_pool", "pool_classes"]


def invariant_pool(x: Any, spec: Any) -> jnp.ndarray:
    """Mean over the permuted axes of every tensor, concatenated: ``(B, sum_l F_l * C)``."""
    tensors, leaves, _, _ = flat_features(spec, x)
    pooled = []
    for leaf, t in zip(leaves, tensors, strict=True):
        folded = fold_fixed_axes(leaf, t)
        axes = tuple(range(1, folded.ndim - 1))
        pooled.append(jnp.mean(folded, axis=axes) if axes else folded)
    return jnp.concatenate(pooled, axis=-1)


def pool_classes(xs: tuple[jnp.ndarray, ...], cplan: ClassPlan) -> jnp.ndarray:
    """:func:`invariant_pool` of class arrays ``(B, *shape_c, K_c F_c C)``: the mean over
    each class's permuted axes, its ``C``-channel blocks put in spec order,
    ``(B, sum_l F_l * C)``."""
    pooled = []
    for x in xs:
        axes = tuple(range(1, x.ndim - 1))
        pooled.append(jnp.mean(x, axis=axes) if axes else x)
    flat = jnp.concatenate(pooled, axis=-1)
    blocks = flat.reshape(flat.shape[0], len(cplan.pool_order), -1)  # (B, sum F_l, C)
    return blocks[:, cplan.pool_order].reshape(flat.shape[0], -1)
