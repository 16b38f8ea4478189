"""The static plan of one equivariant layer: every basis term, grouped for speed.

The layer's output tensor ``l`` is (Eqs. 27-30)

    T^l(X)[k'] = sum_m sum_{P in B^{lm}} sum_k lambda_P[k', k] E_P(X^m)[k] + b^l[k'].

Evaluating each ``E_P`` at full output size (as the reference implementation does)
materialises one full-size array per term: 2,058 of them for the Tiny RNN Zoo. The plan
instead groups terms by their *output pattern* (:attr:`BasisTerm.output_pattern`): all
terms of a group reduce their input to tensors of one small shape, so the group mixes
channels once, on the concatenated small tensors, and is broadcast onto the output
once. Output tensors with the same labels and shape (the six ``(H, H)`` kernels of the
GRU, say) have identical term lists, so one group serves all of them: the reduced
inputs are concatenated once and mixed by one matrix with their coefficients side by
side. Terms sharing an input reduction are evaluated once per layer call.

Parameters of output tensor ``l`` live in one matrix ``theta_l`` of shape
``(rows_l, fold_l * c_out)``; term ``t`` owns rows ``[start_t, start_t + fold_m * c_in)``
(its ``c_out x c_in`` matrix, transposed, widened by the ``None``-axis folds). Terms are
ordered group by group, so a group's rows are contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from predictors.unf.basis import BasisTerm, expand_pattern
from predictors.unf.partitions import valid_partitions
from predictors.unf.spec import TensorSpec

__all__ = ["PlannedTerm", "OutputGroup", "LayerPlan", "layer_plan"]


@dataclass(frozen=True)
class PlannedTerm:
    """A basis term placed in the layer: from input tensor ``in_index`` to each output
    tensor of its group; its coefficient rows start at ``row_unit * c_in`` in the
    ``theta`` of every one of those outputs."""

    in_index: int
    term: BasisTerm
    row_unit: int  # offset in units of c_in rows
    units: int  # fold of the input tensor: number of c_in-row blocks it owns


@dataclass(frozen=True, eq=False)
class OutputGroup:
    """Terms that share an output pattern, for output tensors of equal labels and shape."""

    out_indices: tuple[int, ...]
    terms: tuple[PlannedTerm, ...]
    shape: tuple[int, ...]  # broadcast shape of the permuted output axes
    mask: np.ndarray | None  # diagonal mask (1, *m, 1) or None

    @property
    def row_units(self) -> tuple[int, int]:
        first = self.terms[0].row_unit
        return first, first + sum(t.units for t in self.terms)


@dataclass(frozen=True, eq=False)
class LayerPlan:
    """Everything about a layer that depends on the weight space only."""

    tensors: tuple[TensorSpec, ...]
    groups: tuple[OutputGroup, ...]
    units: tuple[int, ...]  # per output tensor: rows of theta in units of c_in
    dense_units: tuple[int, ...]  # per output tensor: units of terms without a diagonal mask

    @property
    def num_terms(self) -> int:
        return sum(len(g.terms) * len(g.out_indices) for g in self.groups)


@lru_cache(maxsize=64)
def layer_plan(tensors: tuple[TensorSpec, ...]) -> LayerPlan:
    """Enumerate and group the basis terms of a layer on ``tensors`` (cached)."""
    groups: list[OutputGroup] = []
    units, dense_units = [0] * len(tensors), [0] * len(tensors)
    classes: dict[tuple, list[int]] = {}  # (labels, shape) -> output tensors
    for index, t in enumerate(tensors):
        classes.setdefault((t.labels, t.shape), []).append(index)
    for members in classes.values():
        out = tensors[members[0]]
        by_pattern: dict[tuple, list[tuple[int, BasisTerm]]] = {}
        for in_index, inp in enumerate(tensors):
            p, q = len(out.permuted_labels), len(inp.permuted_labels)
            for partition in valid_partitions(out.permuted_labels, inp.permuted_labels):
                term = BasisTerm(partition=partition, out_rank=p, in_rank=q)
                by_pattern.setdefault(term.output_pattern, []).append((in_index, term))
        offset, dense = 0, 0
        for pattern in sorted(by_pattern):
            shape, mask = expand_pattern(pattern, out.permuted_shape)
            planned = []
            for in_index, term in by_pattern[pattern]:
                fold = tensors[in_index].fold
                planned.append(PlannedTerm(in_index, term, offset, fold))
                offset += fold
                if mask is None:
                    dense += fold
            groups.append(OutputGroup(tuple(members), tuple(planned), shape, mask))
        for index in members:
            units[index], dense_units[index] = offset, dense
    return LayerPlan(tuple(tensors), tuple(groups), tuple(units), tuple(dense_units))
