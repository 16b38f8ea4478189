"""Random access to a zoo's models straight from its Parquet shards, in bounded memory.

:class:`ShardReader` indexes every model of a zoo folder by (shard, row group, row)
from the Parquet footers and the ``model_id`` column, keeps the small per-model
metadata (hyperparameters and labels) as a pandas table, and reads the weight tensors
of any set of models by decoding only the row groups that hold them. Files are read
with ordinary reads, not memory maps, so the only zoo data in the process's memory
is the batch being built and a small LRU cache of decoded row groups (at most
``cache_bytes``): iterating the whole zoo never holds it in RAM. A row group holds
``zoo_data.archive.schema.rows_per_row_group`` models (about 1 MiB), so a shuffled batch of ``B``
models decodes at most ``B`` MiB.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zoo_data.archive.layout import DATA
from zoo_data.archive.schema import LABEL_COLUMNS, ROW_COLUMNS, metadata_columns, tensor_shapes
from zoo_data.archive.seal import sealed_scheme, test_labels_sealed
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike

__all__ = ["ShardReader", "column_to_numpy"]


def column_to_numpy(column: pa.Array | pa.ChunkedArray, shape: tuple[int, ...]) -> np.ndarray:
    """A fixed-shape tensor column of ``n`` rows as a float32 array ``(n, *shape)``.

    Accepts the archive's encodings: ``Array2D`` (an extension type over nested lists),
    nested lists, and fixed-size lists; list offsets and slices are respected.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if isinstance(column, pa.ExtensionArray):
        column = column.storage
    n = len(column)
    while pa.types.is_list(column.type) or pa.types.is_large_list(column.type) or (
        pa.types.is_fixed_size_list(column.type)
    ):
        column = column.flatten()
    values = column.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    expected = n * int(np.prod(shape))
    if values.size != expected:
        raise ValueError(f"column holds {values.size} values, expected {n} x {shape}")
    return values.reshape(n, *shape)


class ShardReader:
    """Index and read the models of the zoo in ``zoo_dir`` (see the module docstring).

    Args:
      zoo_dir: the zoo folder (its shards are ``zoo_dir/data/*.parquet``).
      config: the zoo's config (gives the tensor shapes).
      shard_names: the shard files to read, in order (default: every visible
        ``data/*.parquet``, sorted; rows are sorted by ``model_id`` whatever the
        files, so the content does not depend on the archive format).
      cache_bytes: the most bytes of decoded row groups kept for reuse.

    Attributes:
      metadata: a ``pandas.DataFrame`` indexed by ``model_id`` (ascending) with the
        zoo's :func:`~zoo_data.archive.schema.metadata_columns`, one row per model (per model
        and checkpoint), always with ``run_id`` and ``step`` (filled as ``model_id``
        and ``steps`` for zoos without checkpoints).
      shapes: ``{tensor path: shape}`` of one model.
    """

    def __init__(
        self,
        zoo_dir: str | os.PathLike,
        config: ZooConfigLike,
        shard_names: list[str] | None = None,
        cache_bytes: int = 64 << 20,
    ) -> None:
        self.zoo_dir = Path(zoo_dir)
        self.config = config
        self.shapes = tensor_shapes(config)
        self.cache_bytes = cache_bytes
        data_dir = self.zoo_dir / DATA
        if shard_names is None:
            shard_names = sorted(p.name for p in data_dir.glob("*.parquet")
                                 if not p.name.startswith("."))
        if not shard_names:
            raise TinyZooError(f"{data_dir}: no zoo shards (*.parquet) to read")
        self._paths = [data_dir / name for name in shard_names]
        self._files: dict[int, pq.ParquetFile] = {}
        self._cache: OrderedDict[tuple[int, int], tuple[int, dict[str, np.ndarray]]] = (
            OrderedDict()
        )
        self._cached_bytes = 0

        tables, locations = [], []
        meta_columns = list(metadata_columns(config))
        for s, path in enumerate(self._paths):
            pf = self._file(s)
            names = set(pf.schema_arrow.names)
            missing = [c for c in (*meta_columns, *self.shapes) if c not in names]
            if missing:
                raise TinyZooError(f"{path}: not a shard of this zoo (no column {missing[0]})")
            table = pf.read(columns=meta_columns)
            tables.append(table)
            rg_rows = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            rg = np.repeat(np.arange(len(rg_rows)), rg_rows)
            row = np.concatenate([np.arange(r) for r in rg_rows]) if rg_rows else rg
            locations.append(np.stack([np.full(len(rg), s), rg, row], axis=1))
        frame = pa.concat_tables(tables).to_pandas()
        loc = np.concatenate(locations).astype(np.int64)
        order = np.argsort(frame["model_id"].to_numpy(), kind="stable")
        frame, loc = frame.iloc[order], loc[order]
        ids = frame["model_id"].to_numpy()
        if len(ids) and (np.any(ids[1:] == ids[:-1])):
            dup = int(ids[1:][ids[1:] == ids[:-1]][0])
            raise TinyZooError(f"{data_dir}: model {dup} appears in two shards")
        if "run_id" not in frame:  # a zoo without checkpoints: one row per model
            frame["run_id"] = frame["model_id"].astype(ROW_COLUMNS["run_id"])
            frame["step"] = np.full(len(frame), config.steps, ROW_COLUMNS["step"])
        if test_labels_sealed():  # zoo_data.archive.seal: no test label enters this process
            from zoo_data.archive.split_schemes import scheme_ids

            runs = frame["run_id"].to_numpy()
            test = np.isin(runs, scheme_ids(config, sealed_scheme())["test"])
            for column in LABEL_COLUMNS:
                frame[column] = frame[column].where(~test)
        self.metadata = frame.set_index("model_id")
        self._row_of_id = {int(i): k for k, i in enumerate(ids)}
        self._loc = loc

    def __len__(self) -> int:
        return len(self.metadata)

    @property
    def model_ids(self) -> np.ndarray:
        """Every model id in the shards, ascending (int64)."""
        return self.metadata.index.to_numpy()

    def _file(self, s: int) -> pq.ParquetFile:
        if s not in self._files:
            try:
                self._files[s] = pq.ParquetFile(self._paths[s], memory_map=False)
            except (OSError, pa.ArrowException) as e:
                raise TinyZooError(f"{self._paths[s]}: cannot read as Parquet ({e})") from e
        return self._files[s]

    def _row_group(self, s: int, g: int) -> dict[str, np.ndarray]:
        key = (s, g)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit[1]
        try:
            table = self._file(s).read_row_group(g, columns=list(self.shapes))
        except (OSError, pa.ArrowException) as e:
            raise TinyZooError(f"{self._paths[s]}: cannot read row group {g} ({e})") from e
        arrays = {p: column_to_numpy(table.column(p), shape) for p, shape in self.shapes.items()}
        size = sum(a.nbytes for a in arrays.values())
        self._cache[key] = (size, arrays)
        self._cached_bytes += size
        while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
            _, (old, _) = self._cache.popitem(last=False)
            self._cached_bytes -= old
        return arrays

    def _rows(self, model_ids) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(model_ids, dtype=np.int64).reshape(-1)
        try:
            rows = np.fromiter((self._row_of_id[int(i)] for i in ids), np.int64, len(ids))
        except KeyError as e:
            raise KeyError(f"model id {e.args[0]} is not in the zoo at {self.zoo_dir}") from None
        return ids, self._loc[rows]

    def read(
        self, model_ids: np.ndarray | list[int], columns: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """The tensors of ``model_ids`` (in that order): ``{path: (B, *shape) float32}``.

        ``columns`` (tensor paths) reads only those tensors, decoding only their
        Parquet column chunks and bypassing the row-group cache (for exports that go
        through the zoo one tensor at a time).

        Raises:
          KeyError: naming the first id that is not in the zoo, or an unknown column.
        """
        ids, loc = self._rows(model_ids)
        if columns is not None:
            unknown = [c for c in columns if c not in self.shapes]
            if unknown:
                raise KeyError(f"no tensor {unknown[0]!r} in the zoo's models")
            return self._read_columns(loc, list(columns))
        out = {p: np.empty((len(ids), *shape), np.float32) for p, shape in self.shapes.items()}
        # visit row groups in file order; fill every batch position they hold
        keys = loc[:, 0] * (1 << 32) + loc[:, 1]
        for key in np.unique(keys):
            where = np.nonzero(keys == key)[0]
            s, g = int(loc[where[0], 0]), int(loc[where[0], 1])
            arrays = self._row_group(s, g)
            within = loc[where, 2]
            for p in out:
                out[p][where] = arrays[p][within]
        return out

    def _read_columns(self, loc: np.ndarray, columns: list[str]) -> dict[str, np.ndarray]:
        out = {p: np.empty((len(loc), *self.shapes[p]), np.float32) for p in columns}
        for s in np.unique(loc[:, 0]):
            where = np.nonzero(loc[:, 0] == s)[0]
            pf = self._file(int(s))
            groups = np.unique(loc[where, 1])
            sizes = np.array([pf.metadata.row_group(int(g)).num_rows for g in groups])
            start = dict(zip(groups.tolist(), (np.cumsum(sizes) - sizes).tolist(), strict=True))
            try:
                table = pf.read_row_groups([int(g) for g in groups], columns=columns)
            except (OSError, pa.ArrowException) as e:
                raise TinyZooError(f"{self._paths[s]}: cannot read ({e})") from e
            rows = np.array([start[int(g)] for g in loc[where, 1]]) + loc[where, 2]
            for p in columns:
                out[p][where] = column_to_numpy(table.column(p), self.shapes[p])[rows]
        return out
