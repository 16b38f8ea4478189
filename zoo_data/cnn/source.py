"""The Small CNN Zoo's published files, read and checked before anything is imported.

One dataset of the zoo is published as ``<dataset>.tar.xz`` (google-research
``dnn_predict_accuracy``), holding three files:

- ``weights.npy``: ``(R, 4970)`` floats, one flattened network per row (a run at one
  checkpoint);
- ``metrics.csv.gz``: ``R`` rows, row ``i`` describing row ``i`` of the weights:
  ``modeldir`` (the run), ``step`` (the checkpoint's epoch), ``test_accuracy``,
  ``test_loss``, ``train_accuracy``, ``train_loss`` and the run's ``config.<name>``
  hyperparameters;
- ``layout.csv``: one row per tensor: ``varname`` (``<layer>/kernel:0`` or
  ``<layer>/bias:0``), ``start_idx``, ``end_idx`` (its half-open slice of a weights row)
  and ``shape`` (a tuple, e.g. ``(3, 3, 1, 16)``).

:func:`read_published` opens the three (``weights.npy`` memory-mapped: the CIFAR-10
file is about 5.4 GB) and refuses, with one line naming the file, a truncated or
mis-shaped weights array, a metrics table whose rows do not match it or that lacks a
column, and a layout that does not cover the 4,970 weights exactly with the network's
tensors (:mod:`zoo_data.cnn.layout`).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np
import pandas as pd

from zoo_data.cnn.config import CATEGORICAL_HYPERPARAMETERS, NUMERIC_HYPERPARAMETERS
from zoo_data.cnn.layout import LAYERS, NUM_WEIGHTS
from zoo_data.errors import TinyZooError

__all__ = ["WEIGHTS", "METRICS", "LAYOUT", "METRIC_COLUMNS", "PublishedFiles",
           "read_layout", "read_weights", "read_metrics", "read_published"]

WEIGHTS, METRICS, LAYOUT = "weights.npy", "metrics.csv.gz", "layout.csv"

#: Columns of ``metrics.csv.gz`` the import reads.
METRIC_COLUMNS = ("modeldir", "step", "test_accuracy", "test_loss", "train_accuracy",
                  "train_loss", *(f"config.{n}" for n in NUMERIC_HYPERPARAMETERS),
                  *(f"config.{n}" for n in CATEGORICAL_HYPERPARAMETERS))


@dataclass
class PublishedFiles:
    """The checked files of one dataset.

    Attributes:
      folder: where they are.
      weights: ``(R, 4970)`` memory-mapped array (float32 or float64).
      metrics: the :data:`METRIC_COLUMNS` of ``metrics.csv.gz``, ``R`` rows.
      slices: ``{archive path: (start, stop, shape)}`` of the eight tensors.
    """

    folder: Path
    weights: np.ndarray
    metrics: pd.DataFrame
    slices: dict[str, tuple[int, int, tuple[int, ...]]]


def _shape(where: str, text: object) -> tuple[int, ...]:
    try:
        value = ast.literal_eval(str(text))
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, int):
        value = (value,)
    if not (isinstance(value, tuple) and value and all(
            isinstance(d, int) and d > 0 for d in value)):
        raise TinyZooError(f"{where}: shape {str(text)[:40]!r} is not a tuple of sizes")
    return value


def read_layout(path: str | os.PathLike) -> dict[str, tuple[int, int, tuple[int, ...]]]:
    """``{archive path: (start, stop, shape)}`` from ``layout.csv`` (module docstring).

    Each layer (``varname`` without its last part) must have a kernel and a bias; the
    layers, in the order of their kernels' slices, must have the network's shapes
    (:data:`zoo_data.cnn.layout.LAYERS`); every slice must have its shape's size; and
    the slices must tile ``[0, 4970)`` without gap or overlap.

    Raises:
      TinyZooError: one line naming the file and what is wrong.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise TinyZooError(f"{path}: cannot read as CSV ({str(e).splitlines()[0]})") from None
    need = ("varname", "start_idx", "end_idx", "shape")
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise TinyZooError(f"{path}: no column {missing[0]!r} (a layout has "
                           f"{', '.join(need)})")
    layers: dict[str, dict[str, tuple[int, int, tuple[int, ...]]]] = {}
    for k, row in table.iterrows():
        where = f"{path} row {k + 1}"
        name = str(row["varname"])
        layer, _, kind = name.rpartition("/")
        kind = kind.split(":")[0]
        if kind not in ("kernel", "bias") or not layer:
            raise TinyZooError(f"{where}: varname {name!r} is not <layer>/kernel:0 or "
                               "<layer>/bias:0")
        try:
            start, stop = int(row["start_idx"]), int(row["end_idx"])
        except (TypeError, ValueError):
            raise TinyZooError(f"{where}: start_idx/end_idx are not integers") from None
        shape = _shape(where, row["shape"])
        if stop - start != prod(shape):
            raise TinyZooError(f"{where}: slice [{start}, {stop}) has {stop - start} "
                               f"weights, shape {shape} has {prod(shape)}")
        if kind in layers.setdefault(layer, {}):
            raise TinyZooError(f"{where}: a second {kind} of layer {layer!r}")
        layers[layer][kind] = (start, stop, shape)
    if len(layers) != len(LAYERS) or any(len(v) != 2 for v in layers.values()):
        raise TinyZooError(f"{path}: {len(table)} tensors in {len(layers)} layers; the "
                           f"zoo's CNN has a kernel and a bias in each of {len(LAYERS)}")
    ordered = sorted(layers.values(), key=lambda v: v["kernel"][0])
    slices = {}
    for (name, kernel_shape), found in zip(LAYERS, ordered, strict=True):
        want = {"kernel": kernel_shape, "bias": (kernel_shape[-1],)}
        for kind in ("kernel", "bias"):
            if found[kind][2] != want[kind]:
                raise TinyZooError(f"{path}: the {kind} of layer {len(slices) // 2 + 1} has "
                                   f"shape {found[kind][2]}, the zoo's CNN has {want[kind]}")
            slices[f"{name}/{kind}"] = found[kind]
    covered = sorted((s, e) for s, e, _ in slices.values())
    position = 0
    for s, e in covered:
        if s != position:
            raise TinyZooError(f"{path}: the slices do not tile the {NUM_WEIGHTS} weights "
                               f"(a {'gap' if s > position else 'overlap'} at {position})")
        position = e
    if position != NUM_WEIGHTS:
        raise TinyZooError(f"{path}: the slices cover {position} weights, a network has "
                           f"{NUM_WEIGHTS}")
    return dict(sorted(slices.items()))


def read_weights(path: str | os.PathLike) -> np.ndarray:
    """``weights.npy`` memory-mapped, ``(R, 4970)`` float32 or float64.

    Raises:
      TinyZooError: one line if it is missing, not a ``.npy`` file, truncated, or of
        another shape or dtype.
    """
    path = Path(path)
    try:
        weights = np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise TinyZooError(f"{path}: no such file") from None
    except (ValueError, OSError, EOFError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "mmap length" in reason or "smaller" in reason or "size" in reason:
            reason = "truncated: shorter than its header's shape says"
        raise TinyZooError(f"{path}: not a complete .npy array ({reason})") from None
    if weights.ndim != 2 or weights.shape[1] != NUM_WEIGHTS:
        raise TinyZooError(f"{path}: shape {weights.shape}; the zoo's weights are "
                           f"(networks, {NUM_WEIGHTS})")
    if weights.dtype not in (np.float32, np.float64):
        raise TinyZooError(f"{path}: dtype {weights.dtype}; need float32 or float64")
    return weights


def read_metrics(path: str | os.PathLike, rows: int) -> pd.DataFrame:
    """The :data:`METRIC_COLUMNS` of ``metrics.csv.gz`` (gzip inferred from the name),
    which must have ``rows`` rows (one per weights row).

    Raises:
      TinyZooError: one line: unreadable, a column missing, another row count, a
        ``step`` that is not an integer, or an accuracy outside [0, 1].
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, usecols=lambda c: c in METRIC_COLUMNS)
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TinyZooError(f"{path}: cannot read as CSV ({reason})") from None
    missing = [c for c in METRIC_COLUMNS if c not in table.columns]
    if missing:
        raise TinyZooError(f"{path}: no column {missing[0]!r}")
    if len(table) != rows:
        raise TinyZooError(f"{path}: {len(table):,} rows, but weights.npy has {rows:,} "
                           "(row i of each describes the same network)")
    steps = pd.to_numeric(table["step"], errors="coerce")
    if steps.isna().any() or (steps != steps.round()).any():
        bad = int(np.flatnonzero(steps.isna() | (steps != steps.round()))[0])
        raise TinyZooError(f"{path}: row {bad + 1}: step {table['step'].iloc[bad]!r} is "
                           "not an integer")
    table["step"] = steps.astype(np.int64)
    for column in ("test_accuracy", "train_accuracy"):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~((values >= 0) & (values <= 1)))
        if len(bad):
            raise TinyZooError(f"{path}: row {bad[0] + 1}: {column} "
                               f"{table[column].iloc[bad[0]]!r} is not in [0, 1]")
    return table[list(METRIC_COLUMNS)]


def read_published(folder: str | os.PathLike) -> PublishedFiles:
    """The three files of one dataset in ``folder``, read and checked (module
    docstring)."""
    folder = Path(folder)
    slices = read_layout(folder / LAYOUT)
    weights = read_weights(folder / WEIGHTS)
    metrics = read_metrics(folder / METRICS, weights.shape[0])
    return PublishedFiles(folder, weights, metrics, slices)
