"""Basis functions of equivariant maps between two tensors (paper, Eq. 25 and Alg. 1).

A valid partition ``P`` of the output indices ``o_1..o_p`` and input indices ``i_1..i_q``
defines the basis function

    E_P(X)[o_1..o_p] = mean over R of X[i_1..i_q]   if every block's indices are equal,
                       0                              otherwise,

where ``R`` are the blocks that hold only input indices (aggregated as a mean, which
only rescales the paper's sum). As array operations (all on permuted axes only):

1. *reduce*: take the diagonal over input indices that share a block and average the
   input-only blocks, giving a small tensor indexed by the *shared* blocks (those with
   both input and output indices);
2. *expand*: place that tensor onto the diagonal of output indices that share a block,
   and broadcast it along output-only blocks.

:class:`BasisTerm` holds this recipe; :func:`term_matrix` builds the same map as an
explicit matrix straight from the definition above, for tests on tiny sizes.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from functools import cached_property

import jax.numpy as jnp
import numpy as np

from predictors.unf.partitions import Partition

__all__ = ["BasisTerm", "term_matrix"]

_LETTERS = string.ascii_lowercase + "ABCDEFGHIJKLMNOPQRSTUVWX"  # "Y", "Z" are reserved
_BATCH, _CHANNEL = "Z", "Y"


@dataclass(frozen=True)
class BasisTerm:
    """One basis function between an output and an input tensor.

    Attributes:
      partition: the valid partition; blocks of indices, output indices ``0..p-1`` then
        input indices ``p..p+q-1``, each block sorted, blocks sorted by first index.
      out_rank: ``p``, the number of permuted output axes.
      in_rank: ``q``, the number of permuted input axes.
    """

    partition: Partition
    out_rank: int
    in_rank: int

    def _outs(self, block: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(i for i in block if i < self.out_rank)

    def _ins(self, block: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(i - self.out_rank for i in block if i >= self.out_rank)

    @cached_property
    def shared_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks with output and input indices, ordered by their first output axis."""
        return tuple(b for b in self.partition if self._outs(b) and self._ins(b))

    @cached_property
    def reduce_subscripts(self) -> str:
        """``einsum`` subscripts that reduce a batched input ``(B, *in, C)`` to the shared
        blocks ``(B, *shared, C)``: repeated letters take diagonals, missing letters sum."""
        letter = {}
        for k, block in enumerate(self.partition):
            for i in block:
                letter[i] = _LETTERS[k]
        ins = "".join(letter[self.out_rank + j] for j in range(self.in_rank))
        kept = "".join(letter[b[0]] for b in self.shared_blocks)
        return f"{_BATCH}{ins}{_CHANNEL}->{_BATCH}{kept}{_CHANNEL}"

    def aggregated_axes(self) -> tuple[int, ...]:
        """One input axis per input-only block: the product of their sizes divides the sum."""
        return tuple(self._ins(b)[0] for b in self.partition if not self._outs(b))

    @cached_property
    def output_pattern(self) -> tuple[tuple[int, ...], tuple[bool, ...]]:
        """How the result is laid out on the output: ``(block id per output axis, shared
        flag per output block)``. Terms with equal patterns (and output tensor) produce
        reduced tensors of the same shape that are expanded identically, so they can be
        summed before expansion."""
        out_blocks = [b for b in self.partition if self._outs(b)]
        block_of = {}
        for k, b in enumerate(out_blocks):
            for i in self._outs(b):
                block_of[i] = k
        ids = tuple(block_of[i] for i in range(self.out_rank))
        shared = tuple(bool(self._ins(b)) for b in out_blocks)
        return ids, shared

    def reduce(self, x: jnp.ndarray) -> jnp.ndarray:
        """Reduce ``x`` of shape ``(B, *in_shape, C)`` to ``(B, *shared_sizes, C)``."""
        out = jnp.einsum(self.reduce_subscripts, x)
        count = 1
        for axis in self.aggregated_axes():
            count *= x.shape[1 + axis]
        return out / count if count > 1 else out


def expand_pattern(
    pattern: tuple[tuple[int, ...], tuple[bool, ...]], out_shape: tuple[int, ...]
) -> tuple[tuple[int, ...], np.ndarray | None]:
    """Broadcast shape and diagonal mask that place a reduced tensor on an output tensor.

    Args:
      pattern: :attr:`BasisTerm.output_pattern`.
      out_shape: sizes of the permuted output axes.

    Returns:
      ``(shape, mask)``: reshape the reduced ``(B, *shared_sizes, C)`` tensor to
      ``(B, *shape, C)`` (size-1 axes broadcast), then multiply by ``mask`` of shape
      ``(1, *m, 1)`` (a product of Kronecker deltas over output axes that share a block),
      or by nothing when ``mask`` is None.
    """
    ids, shared = pattern
    shape = []
    seen = set()
    for axis, k in enumerate(ids):
        first = k not in seen
        seen.add(k)
        shape.append(out_shape[axis] if (first and shared[k]) else 1)
    mask = None
    for k in range(len(shared)):
        axes = [a for a, kk in enumerate(ids) if kk == k]
        if len(axes) < 2:
            continue
        n = out_shape[axes[0]]
        delta_shape = [1] * len(ids)
        for a in axes:
            delta_shape[a] = n
        delta = np.zeros(delta_shape, dtype=np.float32)
        idx = [0] * len(ids)
        for v in range(n):
            for a in axes:
                idx[a] = v
            delta[tuple(idx)] = 1.0
        mask = delta if mask is None else mask * delta
    if mask is not None:
        mask = mask[None, ..., None]
    return tuple(shape), mask


def term_matrix(
    term: BasisTerm, out_shape: tuple[int, ...], in_shape: tuple[int, ...]
) -> np.ndarray:
    """The basis function as an explicit ``(prod(out_shape), prod(in_shape))`` matrix,
    built entry by entry from the definition (every block's indices equal; mean over
    input-only blocks). Only for tiny shapes: it enumerates every index pair."""
    p = term.out_rank
    count = 1
    for axis in term.aggregated_axes():
        count *= in_shape[axis]
    out_idx = list(itertools.product(*[range(n) for n in out_shape]))
    in_idx = list(itertools.product(*[range(n) for n in in_shape]))
    mat = np.zeros((len(out_idx), len(in_idx)))
    for r, o in enumerate(out_idx):
        for c, i in enumerate(in_idx):
            values = o + i
            if all(len({values[j] for j in block}) == 1 for block in term.partition):
                mat[r, c] = 1.0 / count
    assert p == len(out_shape)
    return mat
