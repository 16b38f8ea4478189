"""A zoo's splits as PyTorch ``DataLoader`` s: ``torch_loaders(source, batch_size=32)``.

PyTorch is optional (``pip install "tiny-rnn-zoo[torch]"``); it is imported inside the
functions here, never with the module. The path from a zoo to tensors is ``datasets``'
own torch formatting: :attr:`zoo_data.zoo.Zoo.dataset` (the split as a memory-mapped
``datasets.Dataset``, one row per model and checkpoint, :mod:`zoo_data.archive.schema`) with
``with_format("torch", columns=...)``, batched by a ``torch.utils.data.DataLoader``::

    from zoo_data.torch_data import torch_loaders

    loaders = torch_loaders("data/zoos/mini", batch_size=32, seed=0)
    for batch in loaders["train"]:          # shuffled; val and test in model-id order
        w = batch["GRUCell_0/hn/kernel"]    # (B, H, H) float32
        y = batch["test_sr"]                # (B,) float32, the label
        ids = batch["model_id"]             # (B,) int64

A batch of ``B`` rows is a dict:

- one ``(B, *shape)`` float32 tensor per weight tensor, keyed by its ``/``-joined path
  inside flax's ``"params"`` (``"GRUCell_0/hn/kernel"`` ``(B, H, H)``,
  ``"GRUCell_0/in/kernel"`` ``(B, V, H)``, ``"GRUCell_0/in/bias"`` ``(B, H)``,
  ``"DecoderGRUCell_0/Dense_0/kernel"`` ``(B, H, V)``, ...: the 22 tensors of
  :func:`zoo_data.archive.schema.tensor_shapes`, ``V = 14``, ``H = config.hidden``), the same
  values as :meth:`zoo_data.zoo.Zoo.tensors` gives as numpy arrays;
- or, with ``flat=True``, instead of those one ``"weights"`` tensor ``(B, P)`` float32:
  each model's tensors raveled (C order) and concatenated in :func:`flat_slices` order
  (the sorted paths of ``Zoo.tensor_shapes``), ``P`` the parameter count;
- ``"test_sr"`` ``(B,)`` float32: each model's success rate on the zoo's held-out test
  problems (:data:`zoo_data.archive.schema.LABEL`);
- ``"model_id"`` ``(B,)`` int64 (in a zoo with checkpoints, the row: model and checkpoint);
- any metadata columns asked for in ``columns`` (``(B,)``; ``datasets``' torch
  formatting makes floats float32 and integers int64).

Shuffling (on by default for ``train`` only) draws from a ``torch.Generator`` seeded
with ``seed``: the same seed gives the same batches; each pass over a loader draws the
next permutation from that generator, so epochs differ and the sequence of epochs is
reproducible. The split is the zoo's fixed one (:mod:`zoo_data.archive.splits`). Test labels
are refused in a process whose test labels are sealed (:mod:`zoo_data.archive.seal`), as for
``Zoo.dataset``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from zoo_data.archive.schema import LABEL
from zoo_data.archive.splits import SPLITS, check_split
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo, load_zoo

__all__ = ["FLAT_KEY", "flat_slices", "torch_dataset", "torch_loader", "torch_loaders"]

#: The key of the flat weight vector in a batch of a ``flat=True`` loader.
FLAT_KEY = "weights"

_INSTALL = 'install tiny-rnn-zoo[torch] (pip install "tiny-rnn-zoo[torch]") or torch itself'


def _torch():
    try:
        import torch
    except ImportError:
        raise TinyZooError(f"the PyTorch loaders need torch, which is not installed: "
                           f"{_INSTALL}") from None
    return torch


def _split_zoo(source: Zoo | str | os.PathLike, split: str) -> Zoo:
    check_split(split)
    if isinstance(source, Zoo):
        return source.with_split(split)
    return load_zoo(source, split)


def flat_slices(shapes: Mapping[str, Sequence[int]] | Zoo) -> dict[str, slice]:
    """``{path: slice}``: where each tensor lies in a flat weight vector, tensors in
    sorted path order, each raveled in C order (``vector[..., s].reshape(B, *shape)``
    is that tensor). ``shapes`` is ``Zoo.tensor_shapes`` or a zoo."""
    if isinstance(shapes, Zoo):
        shapes = shapes.tensor_shapes
    out, start = {}, 0
    for path in sorted(shapes):
        size = 1
        for d in shapes[path]:
            size *= int(d)
        out[path] = slice(start, start + size)
        start += size
    return out


def torch_dataset(source: Zoo | str | os.PathLike, split: str,
                  columns: Sequence[str] = ()):
    """Split ``split`` of the zoo ``source`` (a :class:`~zoo_data.zoo.Zoo` or anything
    :func:`~zoo_data.zoo.load_zoo` takes) as a ``datasets.Dataset`` in torch format:
    ``ds[i]`` is one row, ``{path: (*shape) float32, "test_sr": () float32,
    "model_id": () int64, column: () for column in columns}``; ``ds[i:j]`` the same
    with a leading axis. Rows in ascending ``model_id``.

    Raises:
      TinyZooError: an unknown split, an unknown column, or torch not installed.
    """
    _torch()
    zoo = _split_zoo(source, split)
    ds = zoo.dataset
    wanted = ["model_id", LABEL, *sorted(zoo.tensor_shapes)]
    for name in columns:
        if name not in ds.column_names or name in zoo.tensor_shapes:
            have = [c for c in ds.column_names if c not in zoo.tensor_shapes]
            raise TinyZooError(f"column {name!r}: the zoo at {zoo.path} has no such "
                               f"metadata column (it has {', '.join(have)})")
        if name not in wanted:
            wanted.append(name)
    return ds.with_format("torch", columns=wanted)


class _Collate:
    """Stacks a list of rows into a batch; with ``paths`` (flat), concatenates those
    tensors, raveled, into :data:`FLAT_KEY`. A class, so that worker processes can
    pickle it."""

    def __init__(self, paths: Sequence[str] | None) -> None:
        self.paths = None if paths is None else list(paths)

    def __call__(self, rows: list[dict]) -> dict[str, Any]:
        torch = _torch()
        from torch.utils.data import default_collate

        batch = default_collate(rows)
        if self.paths is None:
            return batch
        parts = [batch.pop(p).reshape(len(rows), -1) for p in self.paths]
        return {FLAT_KEY: torch.cat(parts, dim=1), **batch}


def torch_loader(
    source: Zoo | str | os.PathLike,
    split: str,
    batch_size: int = 32,
    *,
    shuffle: bool | None = None,
    seed: int = 0,
    flat: bool = False,
    columns: Sequence[str] = (),
    drop_last: bool = False,
    num_workers: int = 0,
):
    """A ``torch.utils.data.DataLoader`` over split ``split`` of ``source`` (module
    docstring for the batches). ``shuffle`` defaults to ``split == "train"``; the order
    is drawn from ``torch.Generator().manual_seed(seed)``. Unshuffled batches go in
    ascending ``model_id``.

    Raises:
      TinyZooError: an unknown split, an unknown column, ``batch_size < 1``, or torch
        not installed (``install tiny-rnn-zoo[torch]``).
    """
    torch = _torch()
    from torch.utils.data import DataLoader

    if batch_size < 1:
        raise TinyZooError(f"batch_size {batch_size}: need at least 1")
    zoo = _split_zoo(source, split)
    ds = torch_dataset(zoo, split, columns)
    if shuffle is None:
        shuffle = split == "train"
    paths = sorted(zoo.tensor_shapes) if flat else None
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=torch.Generator().manual_seed(int(seed)),
                      collate_fn=_Collate(paths), num_workers=num_workers)


def torch_loaders(
    source: Zoo | str | os.PathLike,
    batch_size: int = 32,
    *,
    seed: int = 0,
    flat: bool = False,
    columns: Sequence[str] = (),
    splits: Sequence[str] = SPLITS,
    num_workers: int = 0,
) -> dict:
    """``{split: DataLoader}`` for ``splits`` (default train, val, test) of the zoo
    ``source``, loaded once: train shuffled (``seed``), val and test in model-id order,
    every batch as in the module docstring. See :func:`torch_loader`."""
    _torch()
    zoo = source if isinstance(source, Zoo) else load_zoo(source)
    return {split: torch_loader(zoo, split, batch_size, seed=seed, flat=flat,
                                columns=columns, num_workers=num_workers)
            for split in splits}
