"""Valid partitions (paper, Definition 1) and the number of basis terms they give.

For an output tensor with axis labels ``(a_1, ..., a_p)`` and an input tensor with labels
``(b_1, ..., b_q)``, number the output indices ``0 .. p-1`` and the input indices
``p .. p+q-1``. A *valid partition* splits these ``p + q`` indices into non-empty blocks
whose indices all carry the same label. Each valid partition is one basis function of
the space of equivariant linear maps between the two tensors (Eq. 25), so for sizes at
least as large as the label multiplicities

    #terms = prod over labels l of Bell(m_l),

where ``m_l`` counts the indices (output and input) labelled ``l``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from predictors.unf.spec import Label, flatten_spec

Block = tuple[int, ...]
Partition = tuple[Block, ...]

__all__ = ["bell", "set_partitions", "valid_partitions", "count_pair_terms", "count_basis_terms"]


@cache
def bell(n: int) -> int:
    """The n-th Bell number (number of partitions of an n-element set), via the Bell triangle."""
    if n < 0:
        raise ValueError(f"bell: n must be >= 0, got {n}")
    row = [1]
    for _ in range(n):
        nxt = [row[-1]]
        for x in row:
            nxt.append(nxt[-1] + x)
        row = nxt
    return row[0]


def set_partitions(items: Sequence[int]) -> Iterator[list[list[int]]]:
    """All partitions of ``items`` into non-empty blocks (each exactly once)."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for sub in set_partitions(rest):
        for k in range(len(sub)):
            yield sub[:k] + [[first, *sub[k]]] + sub[k + 1 :]
        yield [[first], *sub]


def valid_partitions(out_labels: Sequence[Label], in_labels: Sequence[Label]) -> list[Partition]:
    """All valid partitions of the output and input indices, in a canonical order.

    Labels must not be ``None`` (fixed axes are folded away before this point). Each
    partition is a tuple of blocks; each block is a sorted tuple of indices (output
    indices ``0..p-1`` first, then input indices ``p..p+q-1``); blocks are sorted by
    their smallest index. The list itself is sorted, so the order is deterministic.
    """
    labels = list(out_labels) + list(in_labels)
    if any(lab is None for lab in labels):
        raise ValueError("valid_partitions: None labels must be folded away first")
    groups: dict[Label, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, []).append(index)
    per_label = [list(set_partitions(idx)) for idx in groups.values()]
    result = []
    for combo in itertools.product(*per_label):
        blocks = [tuple(sorted(b)) for part in combo for b in part]
        result.append(tuple(sorted(blocks)))
    return sorted(result)


def count_pair_terms(out_labels: Sequence[Label], in_labels: Sequence[Label]) -> int:
    """Number of basis terms between two tensors: the product of Bell numbers of the
    multiplicities of each (non-None) label among the output and input axes."""
    counts = Counter(lab for lab in (*out_labels, *in_labels) if lab is not None)
    total = 1
    for m in counts.values():
        total *= bell(m)
    return total


def count_basis_terms(spec: Any) -> dict[tuple[str, str], int]:
    """Basis terms of one equivariant layer on the weight space of ``spec``.

    Returns:
      A dict mapping ``(output tensor path, input tensor path)`` to the number of basis
      terms of that block of the layer; ``sum(counts.values())`` is the layer's total
      (2,058 for the Tiny RNN Zoo's seq2seq GRU). ``None`` axes do not add terms: they
      widen the channel mixing of each term instead (see :class:`UNFLayer`).
    """
    items = flatten_spec(spec)
    return {
        (out_path, in_path): count_pair_terms(out_labels, in_labels)
        for out_path, out_labels in items
        for in_path, in_labels in items
    }
