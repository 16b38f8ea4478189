"""``tinyzoo import small-cnn-zoo``: the Small CNN Zoo's published files as a zoo of
this project (archive format 2: Parquet shards per split, manifest, dataset card).

Steps (:func:`import_small_cnn_zoo`):

1. the source's three files (:mod:`zoo_data.cnn.fetch`: a folder, an archive or a URL,
   downloads resumed and checked) are read and checked (:mod:`zoo_data.cnn.source`);
2. the checkpoint (default: the last published ``step``) and the split
   (:mod:`zoo_data.cnn.splits`: NFN's from its split file, pinned by sha256, or ours)
   select and order the rows; every kept network must be finite (NFN asserts the same);
3. the config (:class:`zoo_data.cnn.config.CNNZooConfig`, with every source file's
   sha256) fixes the zoo; the folder is prepared (manifest ``complete: false``, card),
   each group of ``group_size`` rows is written as its files (one per split) and the
   manifest is finalised (:func:`zoo_data.archive.writer.write_zoo`).

Every check runs before the first byte is written into the zoo folder, so a refused
source leaves no zoo behind, never one marked complete. An interrupted import resumes:
complete groups are kept (their sidecars), the rest is written again.

Columns (:data:`zoo_data.cnn.config.METADATA_COLUMNS`): ``test_sr`` is the published
``test_accuracy`` (the label), ``source_index`` the published row; the tensors are the
published slices in their TensorFlow shapes, so ``tensor == weights[source_index,
start:stop].reshape(shape)`` exactly (float64 sources are rounded to float32).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa

from zoo_data.archive.splits import SPLITS
from zoo_data.archive.writer import rows_table, write_zoo
from zoo_data.cnn.config import (
    CATEGORICAL_HYPERPARAMETERS,
    NUMERIC_HYPERPARAMETERS,
    SPLIT_METHODS,
    CNNZooConfig,
)
from zoo_data.cnn.fetch import fetch_file, resolve_source
from zoo_data.cnn.layout import DATASETS
from zoo_data.cnn.source import LAYOUT, METRICS, WEIGHTS, PublishedFiles, read_published
from zoo_data.cnn.splits import NFN_SPLIT_FILES, nfn_split, read_split_file, run_split
from zoo_data.common.atomic import sha256_file
from zoo_data.common.progress import progress_bar
from zoo_data.errors import TinyZooError
from zoo_data.families.base import TrainingGroup

__all__ = ["staging_folder", "import_small_cnn_zoo", "group_table"]

_SPLIT_FILE_BYTES = 16 << 20


def staging_folder(out: Path) -> Path:
    """Where an import into ``out`` keeps downloads and extracted files until it is
    complete: the hidden sibling ``.<name>.import``."""
    return out.parent / f".{out.name}.import"


def _split_order(files: PublishedFiles, dataset: str, split: str, checkpoint: int,
                 split_file: str | None, staging: Path) -> tuple[np.ndarray, list, str | None]:
    """``(rows in id order, split counts, sha256 of the split file)``."""
    steps = files.metrics["step"].to_numpy()
    split_sha = None
    if split == "nfn":
        url, pinned = NFN_SPLIT_FILES[dataset]
        if split_file is None or split_file.startswith(("http://", "https://")):
            staging.mkdir(parents=True, exist_ok=True)
            path = fetch_file(split_file or url, staging / f"{dataset}_split.csv",
                              pinned if split_file is None else None, _SPLIT_FILE_BYTES)
        else:
            path = Path(split_file)
            if not path.is_file():
                raise TinyZooError(f"{split_file}: no such split file")
        split_sha = sha256_file(path)
        parts = nfn_split(read_split_file(path, len(steps)), steps, checkpoint)
    else:
        parts = run_split(files.metrics["modeldir"].to_numpy(), steps, checkpoint)
    counts = [len(parts[s]) for s in SPLITS]
    if min(counts) < 1:
        raise TinyZooError(f"split {split} at step {checkpoint}: an empty split "
                           f"({dict(zip(SPLITS, counts, strict=True))})")
    return np.concatenate([parts[s] for s in SPLITS]), counts, split_sha


def _check_finite(files: PublishedFiles, rows: np.ndarray, chunk: int = 4096) -> None:
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        bad = ~np.isfinite(np.asarray(files.weights[np.sort(part)])).all(axis=1)
        if bad.any():
            row = int(np.sort(part)[np.flatnonzero(bad)[0]])
            raise TinyZooError(f"{files.folder / WEIGHTS}: row {row} (a kept network) has a "
                               "non-finite weight; the zoo keeps finite networks only")


def group_table(config: CNNZooConfig, files: PublishedFiles, rows: np.ndarray,
                ids: np.ndarray, group: int) -> pa.Table:
    """The archive rows of model ids ``ids`` (published rows ``rows``) as one table of
    the zoo's schema (:func:`zoo_data.archive.schema.zoo_features`)."""
    weights = np.asarray(files.weights[rows], np.float32)
    metrics = files.metrics.iloc[rows]
    columns = {
        "model_id": ids.astype(np.int64),
        "group": np.full(len(ids), group, np.int32),
        "source_index": rows.astype(np.int64),
        "modeldir": metrics["modeldir"].astype(str).to_numpy(),
        "test_sr": metrics["test_accuracy"].to_numpy(np.float32),
        "test_loss": metrics["test_loss"].to_numpy(np.float32),
        "train_loss": metrics["train_loss"].to_numpy(np.float32),
        "train_accuracy": metrics["train_accuracy"].to_numpy(np.float32),
        **{n: metrics[f"config.{n}"].to_numpy(np.float64) for n in NUMERIC_HYPERPARAMETERS},
        **{n: metrics[f"config.{n}"].astype(str).to_numpy()
           for n in CATEGORICAL_HYPERPARAMETERS},
    }
    tensors = {path: weights[:, start:stop].reshape(len(rows), *shape)
               for path, (start, stop, shape) in files.slices.items()}
    return rows_table(config, columns, tensors)


def import_small_cnn_zoo(
    source: str | os.PathLike, dataset: str, out: str | os.PathLike, *,
    checkpoint: int | None = None, split: str = "nfn", split_file: str | None = None,
    sha256: str | None = None, group_size: int = 5000, progress: bool = True,
) -> CNNZooConfig:
    """Import ``dataset`` of the Small CNN Zoo from ``source`` into the zoo folder
    ``out`` (module docstring); returns the zoo's config.

    Raises:
      TinyZooError: one line naming the file, option or value at fault; nothing in
        ``out`` is marked complete unless every row was written.
    """
    if dataset not in DATASETS:
        raise TinyZooError(f"dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    if split not in SPLIT_METHODS:
        raise TinyZooError(f"split {split!r}: choose one of {', '.join(SPLIT_METHODS)}")
    if split_file is not None and split != "nfn":
        raise TinyZooError("--split-file is NFN's split file; it needs --split nfn")
    if group_size < 1:
        raise TinyZooError(f"group_size {group_size}: need at least 1")
    out = Path(out)
    staging = staging_folder(out)
    remote = str(source).startswith(("http://", "https://"))
    bar = progress_bar(None, f"downloading {dataset}", "B", enabled=progress and remote)
    folder = resolve_source(str(source), dataset, staging, sha256, bar.update)
    bar.close()
    files = read_published(folder)
    steps = files.metrics["step"].to_numpy()
    available = sorted(set(int(s) for s in steps))
    if checkpoint is None:
        checkpoint = available[-1]
    elif checkpoint not in available:
        raise TinyZooError(f"checkpoint {checkpoint}: the published steps are "
                           f"{', '.join(map(str, available))}")
    rows, counts, split_sha = _split_order(files, dataset, split, checkpoint, split_file,
                                           staging)
    _check_finite(files, rows)
    kept = files.metrics.iloc[rows]
    categories = {n: sorted(set(kept[f"config.{n}"].astype(str)))
                  for n in CATEGORICAL_HYPERPARAMETERS}
    sources = {name: sha256_file(folder / name) for name in (WEIGHTS, METRICS, LAYOUT)}
    if split_sha is not None:
        sources["split.csv"] = split_sha
    config = CNNZooConfig(
        dataset=dataset, checkpoint=checkpoint, split=split, num_models=len(rows),
        split_counts=tuple(counts), group_size=group_size,
        categories=tuple((n, tuple(v)) for n, v in categories.items()),
        sources=tuple(sources.items()), repeated_rows=len(rows) - len(np.unique(rows)),
    )
    def table(group: TrainingGroup) -> pa.Table:
        ids = np.asarray(group.model_ids, np.int64)
        return group_table(config, files, rows[ids], ids, group.index)

    write_zoo(out, config, table, progress=progress,
              description=f"importing {config.preset}", unit="network")
    shutil.rmtree(staging, ignore_errors=True)
    return config
