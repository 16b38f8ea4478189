"""Weight-space specifications: which permutation acts on which axis of which tensor.

A *spec* is a pytree with the structure of a parameter pytree (flax linen or haiku
nested dicts) whose leaves are tuples of axis labels, one label per array axis
(paper, appendix A)::

    spec = {"Dense_0": {"kernel": ("in", "h"), "bias": ("h",)},
            "Dense_1": {"kernel": ("h", "out"), "bias": ("out",)}}

Axes that carry the same label are permuted by the same permutation. A label is a
``str`` or an ``int``; the label ``None`` marks an axis that does not permute at all
(a vocabulary axis, a convolution's spatial axis): layers treat each of its positions
separately.

This module flattens a spec beside a pytree of arrays and checks that they match;
everything downstream works on the resulting list of :class:`TensorSpec`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import jax

Label = Hashable  # str | int | None

__all__ = ["Label", "TensorSpec", "flatten_spec", "match_spec", "path_to_str", "label_sizes"]


def path_to_str(path: Sequence[Any]) -> str:
    """Render a jax key path as a ``/``-joined string (``GRUCell_0/hn/kernel``)."""
    parts = []
    for key in path:
        for attr in ("key", "name", "idx"):
            if hasattr(key, attr):
                parts.append(str(getattr(key, attr)))
                break
        else:
            parts.append(str(key))
    return "/".join(parts)


def _is_label_tuple(node: Any) -> bool:
    return isinstance(node, tuple)


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a weight space.

    Attributes:
      path: ``/``-joined pytree path of the tensor.
      labels: one label per axis of the tensor (``None`` for a non-permuted axis).
      shape: the tensor's shape, without batch or channel axes.
    """

    path: str
    labels: tuple[Label, ...]
    shape: tuple[int, ...]

    @property
    def permuted_axes(self) -> tuple[int, ...]:
        """Positions of the axes whose label is not ``None``."""
        return tuple(i for i, lab in enumerate(self.labels) if lab is not None)

    @property
    def fixed_axes(self) -> tuple[int, ...]:
        """Positions of the ``None`` axes (folded into channels by the layers)."""
        return tuple(i for i, lab in enumerate(self.labels) if lab is None)

    @property
    def permuted_labels(self) -> tuple[Label, ...]:
        return tuple(self.labels[i] for i in self.permuted_axes)

    @property
    def permuted_shape(self) -> tuple[int, ...]:
        return tuple(self.shape[i] for i in self.permuted_axes)

    @property
    def fixed_shape(self) -> tuple[int, ...]:
        return tuple(self.shape[i] for i in self.fixed_axes)

    @property
    def fold(self) -> int:
        """Number of positions of the ``None`` axes (1 if there are none)."""
        size = 1
        for n in self.fixed_shape:
            size *= n
        return size


def flatten_spec(spec: Any) -> list[tuple[str, tuple[Label, ...]]]:
    """Flatten a spec into ``(path, labels)`` pairs in jax's pytree order.

    Raises:
      ValueError: a leaf is not a tuple of labels, or a label is neither str, int nor None.
    """
    flat, _ = jax.tree_util.tree_flatten_with_path(spec, is_leaf=_is_label_tuple)
    out = []
    for path, labels in flat:
        name = path_to_str(path)
        if not isinstance(labels, tuple):
            raise ValueError(f"spec leaf {name!r}: expected a tuple of axis labels, got {labels!r}")
        for axis, label in enumerate(labels):
            if label is not None and (isinstance(label, bool) or not isinstance(label, str | int)):
                raise ValueError(
                    f"spec leaf {name!r} axis {axis}: label {label!r} is not a str, int or None"
                )
        out.append((name, labels))
    return out


def match_spec(spec: Any, tree: Any, leading: int = 0, trailing: int = 0) -> list[TensorSpec]:
    """Pair every tensor of ``tree`` with its spec and check that they agree.

    Args:
      spec: the weight-space spec (pytree of label tuples).
      tree: a pytree of arrays (or anything with ``.shape``) with the same structure.
      leading: number of leading axes of every array that are not in the spec
        (e.g. 1 for a batch axis).
      trailing: number of trailing axes not in the spec (e.g. 1 for a channel axis).

    Returns:
      One :class:`TensorSpec` per tensor, in jax's pytree flattening order.

    Raises:
      ValueError: naming the tensor path and axis when a key is missing or extra, a rank
        differs, or one label is bound to two different sizes.
    """
    spec_items = flatten_spec(spec)
    flat_tree, _ = jax.tree_util.tree_flatten_with_path(tree)
    arrays = {path_to_str(p): a for p, a in flat_tree}
    spec_paths = [p for p, _ in spec_items]
    missing = [p for p in arrays if p not in set(spec_paths)]
    extra = [p for p in spec_paths if p not in arrays]
    if missing:
        raise ValueError(f"tensor {missing[0]!r} has no entry in the spec")
    if extra:
        raise ValueError(f"spec entry {extra[0]!r} has no tensor in the parameters")

    sizes: dict[Label, tuple[int, str, int]] = {}
    tensors = []
    for path, labels in spec_items:
        shape = tuple(int(n) for n in arrays[path].shape)
        core = shape[leading : len(shape) - trailing]
        if len(shape) < leading + trailing or len(core) != len(labels):
            raise ValueError(
                f"tensor {path!r}: spec has {len(labels)} axis labels {labels!r} but the array "
                f"has {len(core)} axes (shape {shape}, {leading} leading and {trailing} "
                "trailing axes excluded)"
            )
        for axis, (label, n) in enumerate(zip(labels, core, strict=True)):
            if label is None:
                continue
            if label in sizes and sizes[label][0] != n:
                n0, path0, axis0 = sizes[label]
                raise ValueError(
                    f"tensor {path!r} axis {axis}: label {label!r} has size {n}, but "
                    f"tensor {path0!r} axis {axis0} gives it size {n0}"
                )
            sizes.setdefault(label, (n, path, axis))
        tensors.append(TensorSpec(path=path, labels=labels, shape=core))
    return tensors


def label_sizes(tensors: Sequence[TensorSpec]) -> dict[Label, int]:
    """Size of every permutation label used by ``tensors`` (``None`` excluded)."""
    sizes: dict[Label, int] = {}
    for t in tensors:
        for label, n in zip(t.labels, t.shape, strict=True):
            if label is not None:
                sizes[label] = n
    return sizes
