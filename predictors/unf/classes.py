"""Tensor classes: the tensors of a weight space with equal labels and shape, stacked.

The seq2seq GRU's 22 tensors fall into 5 classes (six ``(H, H)`` kernels, six
``(V, H)`` kernels, eight ``(H,)`` biases, the ``(H, V)`` output kernel and its ``(V,)``
bias). A neuron permutation acts alike on every member of a class, and every member has
the same basis terms, so the layers keep each class as one array with its members side
by side on the channel axis:

    X^c = concat_{m in c} fold(X^m)     (B, *permuted_shape_c, K_c * F_c * C)

(``K_c`` members, ``F_c`` fixed positions each, member-major, then fixed position,
then channel). A basis reduction of ``X^c`` is then one operation for all ``K_c``
members, the channel mix of a group writes every output member at once, and nothing
is split or concatenated between layers.

:func:`stack` and :func:`unstack` convert between the per-tensor features of
:mod:`predictors.unf.layer` and this representation; :class:`ClassPlan` is the layer's
:class:`~predictors.unf.plan.LayerPlan` in class terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jax.numpy as jnp
import numpy as np
from jax import lax

from predictors.unf.basis import BasisTerm
from predictors.unf.plan import LayerPlan, layer_plan
from predictors.unf.spec import TensorSpec

__all__ = ["ClassGroup", "ClassPlan", "class_plan", "fold_fixed_axes", "stack",
           "unfold_fixed_axes", "unstack"]


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


@dataclass(frozen=True, eq=False)
class ClassGroup:
    """The terms of one :class:`~predictors.unf.plan.OutputGroup`, in class terms.

    ``parts[j] = (in_class, term)``: ``term`` reduces the whole input class at once.
    Their reductions, concatenated, have ``sum_j K_j F_j`` blocks of ``c_in`` channels;
    block ``r`` is mixed by the rows ``units[r] * c_in ... (units[r] + 1) * c_in`` of
    every output member's ``theta`` (the rows :mod:`predictors.unf.plan` gave that term
    from that input member and fixed position).
    """

    out_class: int
    parts: tuple[tuple[int, BasisTerm], ...]
    units: np.ndarray  # (sum_j K_j F_j,) int: theta row blocks, in stacked channel order
    shape: tuple[int, ...]  # broadcast shape of the permuted output axes
    diagonals: tuple[tuple[int, ...], ...]  # output axes that share an index (the mask)

    def mask(self, out_shape: tuple[int, ...], dtype) -> jnp.ndarray | None:
        """The group's diagonal mask ``(1, *out_shape, 1)`` (the product of Kronecker
        deltas of :func:`~predictors.unf.basis.expand_pattern`), or None. Built from
        ``iota`` inside the traced function, so XLA fuses it into the multiply instead
        of materialising a broadcast constant of the output's full size."""
        if not self.diagonals:
            return None
        shape = (1, *out_shape, 1)
        mask = None
        for axes in self.diagonals:
            first = lax.broadcasted_iota(jnp.int32, shape, 1 + axes[0])
            for a in axes[1:]:
                eq = first == lax.broadcasted_iota(jnp.int32, shape, 1 + a)
                mask = eq if mask is None else mask & eq
        return mask.astype(dtype)


@dataclass(frozen=True, eq=False)
class ClassPlan:
    """A layer's plan in class terms, with how tensors map onto classes.

    Attributes:
      plan: the per-tensor plan (parameter layout: rows of every ``theta``).
      members: per class, its tensors' indices (spec order).
      groups: every group of the plan, in class terms.
      pool_order: ``(sum_l F_l,)``: for the blocks of ``C`` pooled channels in spec
        order, their position in the classes' concatenated blocks (see
        :func:`predictors.unf.pool.pool_classes`).
    """

    plan: LayerPlan
    members: tuple[tuple[int, ...], ...]
    groups: tuple[ClassGroup, ...]
    pool_order: np.ndarray

    @property
    def tensors(self) -> tuple[TensorSpec, ...]:
        return self.plan.tensors

    def representative(self, c: int) -> TensorSpec:
        """The first member of class ``c`` (all members share labels and shape)."""
        return self.plan.tensors[self.members[c][0]]

    def width(self, c: int, channels: int) -> int:
        """Channel width of class ``c``'s stacked array: ``K_c * F_c * channels``."""
        return len(self.members[c]) * self.representative(c).fold * channels


@lru_cache(maxsize=64)
def class_plan(tensors: tuple[TensorSpec, ...]) -> ClassPlan:
    """Group ``tensors`` into classes and restate :func:`layer_plan`'s groups (cached)."""
    plan = layer_plan(tensors)
    members: list[list[int]] = []
    class_of: dict[int, int] = {}
    by_key: dict[tuple, int] = {}
    for index, t in enumerate(tensors):
        c = by_key.setdefault((t.labels, t.shape), len(members))
        if c == len(members):
            members.append([])
        members[c].append(index)
        class_of[index] = c
    groups = []
    for group in plan.groups:
        row_unit = {(pt.in_index, pt.term): pt.row_unit for pt in group.terms}
        parts: list[tuple[int, BasisTerm]] = []
        for pt in group.terms:
            key = (class_of[pt.in_index], pt.term)
            if key not in parts:
                parts.append(key)
        units = []
        for c, term in parts:
            for m in members[c]:
                start = row_unit[(m, term)]  # every member of c has the term
                units.extend(range(start, start + tensors[m].fold))
        start, stop = group.row_units
        if sorted(units) != list(range(start, stop)):
            raise AssertionError("class plan does not cover the group's coefficient rows")
        ids = group.terms[0].term.output_pattern[0]  # block of every output axis
        diagonals = tuple(axes for axes in (tuple(a for a, k in enumerate(ids) if k == b)
                                            for b in sorted(set(ids))) if len(axes) > 1)
        if (group.mask is None) != (not diagonals):
            raise AssertionError("class plan disagrees with the group's diagonal mask")
        groups.append(ClassGroup(class_of[group.out_indices[0]], tuple(parts),
                                 np.asarray(units, np.int32), group.shape, diagonals))
    offsets = np.cumsum([0] + [len(ms) * tensors[ms[0]].fold for ms in members])
    block: dict[int, int] = {}
    for c, ms in enumerate(members):
        for k, m in enumerate(ms):
            block[m] = int(offsets[c]) + k * tensors[m].fold
    pool_order = np.concatenate([np.arange(block[i], block[i] + t.fold)
                                 for i, t in enumerate(tensors)]).astype(np.int32)
    return ClassPlan(plan, tuple(tuple(ms) for ms in members), tuple(groups), pool_order)


def stack(leaves: list[jnp.ndarray], cplan: ClassPlan) -> tuple[jnp.ndarray, ...]:
    """Per-tensor features ``(B, *axes_l, C)`` (spec order) to one array per class,
    ``(B, *permuted_shape_c, K_c * F_c * C)``."""
    out = []
    for ms in cplan.members:
        folded = [fold_fixed_axes(leaves[m], cplan.tensors[m]) for m in ms]
        out.append(folded[0] if len(folded) == 1 else jnp.concatenate(folded, axis=-1))
    return tuple(out)


def unstack(xs: tuple[jnp.ndarray, ...], cplan: ClassPlan) -> list[jnp.ndarray]:
    """Inverse of :func:`stack`: class arrays to per-tensor ``(B, *axes_l, C)`` (spec
    order). One ``jnp.split`` per class (its backward pass is one concatenation)."""
    leaves: list[jnp.ndarray | None] = [None] * len(cplan.tensors)
    for x, ms in zip(xs, cplan.members, strict=True):
        pieces = [x] if len(ms) == 1 else jnp.split(x, len(ms), axis=-1)
        for m, piece in zip(ms, pieces, strict=True):
            leaves[m] = unfold_fixed_axes(piece, cplan.tensors[m])
    return leaves
