"""Writing a trained group's models as its shards of the archive.

A group's rows (one per model, or per model and checkpoint, in the group's id order)
form one table with the explicit schema of :func:`zoo_data.archive.schema.zoo_features`;
:func:`zoo_data.archive.shard_files.write_group` writes it as the group's Parquet files (format 2:
one per split, :mod:`zoo_data.archive.layout`), each followed by the sidecar that marks it
complete (:mod:`zoo_data.archive.folder`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.schema import tensor_shapes, zoo_features
from zoo_data.archive.shard_files import write_group
from zoo_data.common.trees import flatten
from zoo_data.rnn.hparams import model_hparams

__all__ = ["Checkpoint", "GroupResult", "write_shard"]


class Checkpoint(NamedTuple):
    """A group's weights and labels after one checkpoint step, model axis first."""

    params: dict  # flax "params" tree, leaves (M, *shape), float32
    test_sr: np.ndarray  # (M,)
    test_loss: np.ndarray  # (M,)
    train_loss: np.ndarray  # (M,)


@dataclass(frozen=True)
class GroupResult:
    """Trained weights and labels of one group (after the last step); arrays have the
    model axis first. ``checkpoints`` holds the zoo's earlier checkpoints
    (``config.checkpoints`` but the last), step -> :class:`Checkpoint`."""

    model_ids: tuple[int, ...]
    params: dict  # flax "params" tree, leaves (M, *shape), float32
    test_sr: np.ndarray  # (M,)
    test_loss: np.ndarray  # (M,)
    train_loss: np.ndarray  # (M,)
    sr_at: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)  # step -> (M,) test SR
    checkpoints: dict[int, Checkpoint] = dataclasses.field(default_factory=dict)

    def at(self, step: int) -> Checkpoint:
        """The weights and labels after ``step`` (a checkpoint, or the last step)."""
        if step in self.checkpoints:
            return self.checkpoints[step]
        return Checkpoint(self.params, self.test_sr, self.test_loss, self.train_loss)


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
) -> dict[str, str]:
    """Write training group ``group_index``'s models as its complete shards; returns
    ``{file name: sha256}`` of its Parquet files (format 2: one per split it has models
    of).

    ``result`` holds ``M`` models in the group's id order: every params leaf has shape
    ``(M, *tensor_shape)``, the labels have shape ``(M,)``, for the last step and for each
    earlier checkpoint of the config. Rows are run-major: model ``r``'s ``C``
    checkpoints are rows ``model_id = r * C + k`` in step order (:mod:`zoo_data.archive.schema`).
    The group's old sidecars (if any) are removed first, then each Parquet file and its
    sidecar are written atomically (:func:`zoo_data.archive.shard_files.write_group`), so a crash
    at any point leaves the group incomplete, never wrong.

    Raises:
      ValueError: if ``result`` does not match the group or the model's tensor shapes, or
        lacks one of the config's checkpoints.
      TinyZooError: if a file cannot be written.
    """
    config, groups = layout.config, layout.groups
    if not 0 <= group_index < len(groups):
        raise ValueError(f"group index {group_index} outside 0..{len(groups) - 1}")
    ids = tuple(int(i) for i in result.model_ids)
    if ids != groups[group_index].model_ids:
        raise ValueError(f"result's model ids {ids} are not those of group {group_index}")
    steps = config.checkpoint_steps
    missing = [s for s in steps[:-1] if s not in result.checkpoints]
    if missing:
        raise ValueError(f"result lacks the weights of checkpoint step {missing[0]}")
    m, c = len(ids), len(steps)
    shapes = tensor_shapes(config)
    flat_at, labels_at = [], []
    for step in steps:
        ckpt = result.at(step)
        params = ckpt.params["params"] if set(ckpt.params) == {"params"} else ckpt.params
        flat = flatten(params)
        if set(flat) != set(shapes):
            raise ValueError(
                f"result's tensors {sorted(flat)} differ from the model's {sorted(shapes)}"
            )
        flat_at.append(flat)
        for label in ("test_sr", "test_loss", "train_loss"):
            value = np.asarray(getattr(ckpt, label), np.float32)
            if value.shape != (m,):
                raise ValueError(f"result.{label} has shape {value.shape}, not ({m},)")
        labels_at.append(ckpt)

    def rows(per_step: list[np.ndarray]) -> np.ndarray:
        """``C`` arrays ``(M, ...)`` -> ``(M * C, ...)``, run-major."""
        return np.stack(per_step, axis=1).reshape(m * c, *per_step[0].shape[1:])

    hps = [model_hparams(config, i) for i in ids]
    run = np.repeat(np.asarray(ids, np.int64), c)
    columns: dict[str, np.ndarray] = {
        "model_id": run * c + np.tile(np.arange(c, dtype=np.int64), m),
        "group": np.full(m * c, group_index, np.int32),
        "learning_rate": np.repeat(np.asarray([h.learning_rate for h in hps], np.float64), c),
        "batch_size": np.repeat(np.asarray([h.batch_size for h in hps], np.int32), c),
        "steps": np.full(m * c, config.steps, np.int32),
        "seed": np.full(m * c, config.seed, np.int64),
        "run_id": run,
        "step": np.tile(np.asarray(steps, np.int32), m),
    }
    for name in config.varied:
        columns[name] = np.repeat(np.asarray([getattr(h, name) for h in hps], np.float64), c)
    for label in ("test_sr", "test_loss", "train_loss"):
        columns[label] = rows([np.asarray(getattr(x, label), np.float32) for x in labels_at])

    schema = zoo_features(config).arrow_schema
    arrays = []
    for field in schema:
        if field.name in columns:
            arrays.append(pa.array(columns[field.name], type=field.type))
            continue
        per_step = [np.asarray(flat[field.name]) for flat in flat_at]
        for leaf in per_step:
            if leaf.shape != (m, *shapes[field.name]):
                raise ValueError(f"result tensor {field.name} has shape {leaf.shape}, "
                                 f"not {(m, *shapes[field.name])}")
        leaf = rows(per_step)
        if isinstance(field.type, pa.ExtensionType):
            arrays.append(_array2d(leaf, field.type))
        else:
            arrays.append(_fixed_size_storage(leaf, field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)
    return write_group(zoo_dir, layout, group_index, table)
