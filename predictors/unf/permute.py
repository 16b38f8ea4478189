"""Neuron permutations of a weight space: draw them and apply them.

A permutation of the weight space is one permutation ``s_label`` per label; it acts on
every tensor by permuting each labelled axis with its label's permutation (Eq. 4).
``None`` axes are left alone. Used by the equivariance tests, by permutation data
augmentation and by the symmetry audit.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from predictors.unf.spec import Label, label_sizes, match_spec, path_to_str

__all__ = ["random_permutations", "permute", "permute_each"]


def random_permutations(
    rng: np.random.Generator, spec: Any, tree: Any, leading: int = 0, trailing: int = 0
) -> dict[Label, np.ndarray]:
    """One uniformly random permutation per label of ``spec``, sized from ``tree``."""
    sizes = label_sizes(match_spec(spec, tree, leading, trailing))
    return {label: rng.permutation(n) for label, n in sizes.items()}


def permute(
    tree: Any, spec: Any, perms: dict[Label, np.ndarray], leading: int = 0, trailing: int = 0
) -> Any:
    """Apply ``perms`` to every labelled axis of every tensor of ``tree``.

    ``leading``/``trailing`` count axes outside the spec (batch, channels). Works on numpy
    and jax arrays; returns arrays of the same kind.
    """
    tensors = {t.path: t for t in match_spec(spec, tree, leading, trailing)}

    def apply(path, leaf):
        t = tensors[path_to_str(path)]
        for axis, label in enumerate(t.labels):
            if label is not None:
                leaf = leaf.take(perms[label], axis=leading + axis)
        return leaf

    return jax.tree_util.tree_map_with_path(apply, tree)


def permute_each(params: Any, spec: Any, rng: np.random.Generator, trailing: int = 1) -> Any:
    """Each model of the batch ``params`` (leaves ``(B, *tensor_shape, *trailing axes)``)
    under its own random permutation of ``spec`` (model ``k`` gets the ``k``-th draw
    of :func:`random_permutations` from ``rng``); numpy in, numpy out.

    With a zoo's true symmetry as ``spec`` every copy computes its model's function:
    data augmentation and the symmetry audit use it so.
    """
    b = jax.tree_util.tree_leaves(params)[0].shape[0]
    out = []
    for k in range(b):
        one = jax.tree_util.tree_map(lambda x, k=k: x[k], params)
        perms = random_permutations(rng, spec, one, leading=0, trailing=trailing)
        out.append(permute(one, spec, perms, leading=0, trailing=trailing))
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *out)
