"""Writing a trained group's models as one shard of the archive.

A shard is one Parquet file per training group (:mod:`zoo_data.layout`), one row per
model in the group's id order, with the explicit schema of
:func:`zoo_data.schema.zoo_features`; the sidecar written after it marks it complete
(:mod:`zoo_data.folder`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zoo_data.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.folder import write_sidecar
from zoo_data.hparams import model_hparams
from zoo_data.layout import DATA, ZooLayout
from zoo_data.schema import METADATA_COLUMNS, rows_per_row_group, tensor_shapes, zoo_features
from zoo_data.trees import flatten

__all__ = ["GroupResult", "write_shard"]


@dataclass(frozen=True)
class GroupResult:
    """Trained weights and labels of one group; arrays have the model axis first."""

    model_ids: tuple[int, ...]
    params: dict  # flax "params" tree, leaves (M, *shape), float32
    test_sr: np.ndarray  # (M,)
    test_loss: np.ndarray  # (M,)
    train_loss: np.ndarray  # (M,)
    sr_at: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)  # step -> (M,) test SR


def _fixed_size_storage(arr: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """``arr (M, n)`` as a fixed-size-list array of ``arrow_type``."""
    values = pa.array(np.ascontiguousarray(arr, np.float32).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(values, type=arrow_type)


def _array2d(arr: np.ndarray, arrow_type: pa.ExtensionType) -> pa.Array:
    """``arr (M, r, c)`` as the ``Array2D`` extension array (nested list storage)."""
    m, r, c = arr.shape
    values = pa.array(np.ascontiguousarray(arr, np.float32).reshape(-1))
    rows = pa.ListArray.from_arrays(pa.array(np.arange(0, m * r * c + 1, c, np.int32)), values)
    outer = pa.ListArray.from_arrays(pa.array(np.arange(0, m * r + 1, r, np.int32)), rows)
    return pa.ExtensionArray.from_storage(arrow_type, outer.cast(arrow_type.storage_type))


def write_shard(
    zoo_dir: str | os.PathLike, layout: ZooLayout, group_index: int, result: GroupResult
) -> str:
    """Write training group ``group_index``'s models as a complete shard; returns the sha256
    of its Parquet file.

    ``result`` holds ``M`` models in the group's id order: every params leaf has shape
    ``(M, *tensor_shape)``, the labels have shape ``(M,)``. The old sidecar (if any) is
    removed first, then the Parquet file and then its sidecar are written atomically, so
    a crash at any point leaves the shard incomplete, never wrong.

    Raises:
      ValueError: if ``result`` does not match the group or the model's tensor shapes.
      TinyZooError: if a file cannot be written.
    """
    data_dir = Path(zoo_dir) / DATA
    config, groups = layout.config, layout.groups
    if not 0 <= group_index < len(groups):
        raise ValueError(f"group index {group_index} outside 0..{len(groups) - 1}")
    ids = tuple(int(i) for i in result.model_ids)
    if ids != groups[group_index].model_ids:
        raise ValueError(f"result's model ids {ids} are not those of group {group_index}")
    m = len(ids)

    params = result.params
    if set(params) == {"params"}:
        params = params["params"]
    flat = flatten(params)
    shapes = tensor_shapes(config)
    if set(flat) != set(shapes):
        raise ValueError(
            f"result's tensors {sorted(flat)} differ from the model's {sorted(shapes)}"
        )
    hps = [model_hparams(config, i) for i in ids]
    columns: dict[str, np.ndarray] = {
        "model_id": np.asarray(ids, np.int64),
        "group": np.full(m, group_index, np.int32),
        "learning_rate": np.asarray([h.learning_rate for h in hps], np.float64),
        "batch_size": np.asarray([h.batch_size for h in hps], np.int32),
        "steps": np.full(m, config.steps, np.int32),
        "seed": np.full(m, config.seed, np.int64),
    }
    for label in ("test_sr", "test_loss", "train_loss"):
        columns[label] = np.asarray(getattr(result, label), np.float32)
        if columns[label].shape != (m,):
            raise ValueError(f"result.{label} has shape {columns[label].shape}, not ({m},)")

    schema = zoo_features(config).arrow_schema
    arrays = []
    for field in schema:
        if field.name in columns:
            arrays.append(pa.array(columns[field.name], type=field.type))
            continue
        leaf = np.asarray(flat[field.name])
        if leaf.shape != (m, *shapes[field.name]):
            raise ValueError(
                f"result tensor {field.name} has shape {leaf.shape}, "
                f"not {(m, *shapes[field.name])}"
            )
        if isinstance(field.type, pa.ExtensionType):
            arrays.append(_array2d(leaf, field.type))
        else:
            arrays.append(_fixed_size_storage(leaf, field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)

    sink = pa.BufferOutputStream()
    # no dictionary encoding for the float tensors: their values are all distinct, and
    # the dictionary page written before the fallback to PLAIN costs ~45% more bytes
    pq.write_table(table, sink, row_group_size=rows_per_row_group(config),
                   use_dictionary=list(METADATA_COLUMNS))
    blob = memoryview(sink.getvalue())
    sha = hashlib.sha256(blob).hexdigest()

    parquet_path = data_dir / layout.shard_name(group_index)
    sidecar_path = data_dir / layout.sidecar_name(group_index)
    try:
        sidecar_path.unlink(missing_ok=True)
    except OSError as e:
        raise TinyZooError(f"{sidecar_path}: cannot remove ({e.strerror or e})") from e
    atomic_write(parquet_path, blob)
    write_sidecar(zoo_dir, layout, group_index, sha)
    return sha
