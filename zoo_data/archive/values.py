"""Check a shard's values, not only its bytes: a zoo whose hashes all match its manifest
can still hold values no model has (a manifest rewritten with the damage).

:func:`check_shard_values` reads one shard with the zoo's schema
(:func:`~zoo_data.archive.shard_files.read_shard_table`) and checks

- the file is a regular file, not a symbolic link (one could point anywhere);
- every ``model_id`` is a row of the zoo (``0 <= id < config.num_rows``), once;
- every row lies in the split the manifest gives the shard (archive format 2);
- every weight (every array column) is finite, in a tensor of the declared shape (the
  schema read checks the shape: a list of another length is refused there);
- ``test_sr`` is finite and in ``[0, 1]``; the losses are finite and not negative.

It returns the problems as ``(column, model id, what)`` (``model id`` ``None`` for the
file itself), so that a caller can name the shard, the column and the model in one
line. :func:`zoo_data.archive.verify.check_shards` (every command that opens a zoo) and
:func:`~zoo_data.archive.verify.verify_zoo` (``tinyzoo verify``) call it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa

from zoo_data.archive.schema import LABEL
from zoo_data.archive.seal import test_labels_sealed
from zoo_data.archive.shard_files import read_shard_table
from zoo_data.archive.splits import split_of_rows
from zoo_data.families.base import ZooConfigLike

__all__ = ["check_shard_values", "values_error"]

#: Columns of losses: finite and not negative where the zoo has them.
LOSS_COLUMNS = ("test_loss", "train_loss")


def _first_bad(ids: np.ndarray, bad: np.ndarray) -> int:
    return int(ids[np.flatnonzero(bad)[0]])


def _flat_values(column: pa.ChunkedArray | pa.Array, rows: int) -> np.ndarray:
    """``(rows, size)`` float values of a (nested) list column."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    while pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type) \
            or pa.types.is_large_list(array.type):
        array = array.flatten()
    values = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    return values.reshape(rows, -1) if rows else values.reshape(0, 0)


def check_shard_values(path: str | os.PathLike, config: ZooConfigLike,
                       split: str | None = None) -> list[tuple[str, int | None, str]]:
    """The problems of the shard at ``path`` of the zoo ``config`` (module docstring);
    ``split``: the split the manifest gives it (``None``: a format-1 shard of several
    splits). Empty when every value makes sense."""
    path = Path(path)
    if path.is_symlink():
        return [("file", None, f"a symbolic link (to {os.readlink(path)}), not a shard "
                               "file of this zoo")]
    table = read_shard_table(path, config)
    ids = table.column("model_id").to_numpy()
    problems: list[tuple[str, int | None, str]] = []
    bad = (ids < 0) | (ids >= config.num_rows)
    if bad.any():
        problems.append(("model_id", _first_bad(ids, bad),
                         f"not a row of this zoo (0 to {config.num_rows - 1})"))
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        problems.append(("model_id", int(unique[counts > 1][0]), "appears twice"))
    if split is not None and not bad.any():
        where = split_of_rows(config, ids)
        wrong = where != split
        if wrong.any():
            k = np.flatnonzero(wrong)[0]
            problems.append(("model_id", int(ids[k]), f"a {where[k]} row in a {split} shard"))
    names = set(table.column_names)
    if LABEL in names:
        sr = table.column(LABEL).to_numpy(zero_copy_only=False).astype(np.float64)
        bad = ~np.isfinite(sr) | (sr < 0) | (sr > 1)
        if test_labels_sealed():  # the sealed test rows read as missing, by design
            bad &= ~np.isnan(sr)
        if bad.any():
            problems.append((LABEL, _first_bad(ids, bad),
                             f"{float(sr[bad][0])!r}: a success rate is finite, in [0, 1]"))
    for column in LOSS_COLUMNS:
        if column in names:
            loss = table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
            bad = ~np.isfinite(loss) | (loss < 0)
            if test_labels_sealed():
                bad &= ~np.isnan(loss)
            if bad.any():
                problems.append((column, _first_bad(ids, bad),
                                 f"{float(loss[bad][0])!r}: a loss is finite, not negative"))
    for field in table.schema:  # every array column: the weights, however a family names them
        storage = field.type.storage_type if isinstance(field.type, pa.ExtensionType) \
            else field.type
        if not (pa.types.is_list(storage) or pa.types.is_fixed_size_list(storage)
                or pa.types.is_large_list(storage)):
            continue
        values = _flat_values(table.column(field.name), len(ids))
        if not np.issubdtype(values.dtype, np.floating):
            continue
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            problems.append((field.name, _first_bad(ids, bad), "a weight that is not finite"))
    return problems


def values_error(path: str | os.PathLike,
                 problems: list[tuple[str, int | None, str]]) -> str:
    """One line for the first of ``problems`` of the shard at ``path``."""
    column, model, what = problems[0]
    where = f"column {column}" + (f", model {model}" if model is not None else "")
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{path}: {where}: {what}{more}"
