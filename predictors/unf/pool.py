"""Invariant pooling: weight-space features to a flat vector that no neuron permutation
changes.

For each tensor ``(B, *axes, C)``, average over its permuted axes; a ``None`` axis is
not permuted, so its positions are kept as separate features. The results are
concatenated in the spec's flattening order:

    pool(X) = concat_l  mean_{permuted axes of l} X^l   ->  (B, sum_l F_l * C)

with ``F_l`` the number of fixed positions of tensor ``l`` (1 without ``None`` axes).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from predictors.unf.layer import flat_features, fold_fixed_axes

__all__ = ["invariant_pool"]


def invariant_pool(x: Any, spec: Any) -> jnp.ndarray:
    """Mean over the permuted axes of every tensor, concatenated: ``(B, sum_l F_l * C)``."""
    tensors, leaves, _, _ = flat_features(spec, x)
    pooled = []
    for leaf, t in zip(leaves, tensors, strict=True):
        folded = fold_fixed_axes(leaf, t)
        axes = tuple(range(1, folded.ndim - 1))
        pooled.append(jnp.mean(folded, axis=axes) if axes else folded)
    return jnp.concatenate(pooled, axis=-1)
