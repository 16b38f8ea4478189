"""A training group's rows as Parquet files: the one encoding every writer of shards uses.

A group's rows form one Arrow table in the group's row order (run-major,
:mod:`zoo_data.archive.schema`), with the explicit schema of
:func:`zoo_data.archive.schema.zoo_features`.
:func:`write_group` cuts it into the group's files of the zoo's layout (format 2: one per
split, :mod:`zoo_data.archive.layout`) and writes each with :func:`encode_parquet`, so a build
(:mod:`zoo_builder.shards`), a migration (:mod:`zoo_data.archive.migrate`) and its inverse write
the same bytes for the same rows. :func:`read_shard_table` reads a shard back as such a
table.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zoo_data.archive.folder import write_sidecar
from zoo_data.archive.layout import DATA, ZooLayout
from zoo_data.archive.parquet_read import read_columns
from zoo_data.archive.schema import metadata_columns, rows_per_row_group, zoo_features
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike

__all__ = ["encode_parquet", "tensor_column", "write_group", "read_shard_table",
           "group_table"]


def tensor_column(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """``values (M, *shape)`` as the column of a tensor of that shape: for an
    ``ArrayND`` extension type (a matrix or a kernel) nested lists, one level per axis;
    otherwise (a vector) a fixed-size list."""
    m = values.shape[0]
    flat = pa.array(np.ascontiguousarray(values, np.float32).reshape(-1))
    if not isinstance(arrow_type, pa.ExtensionType):
        return pa.FixedSizeListArray.from_arrays(flat, type=arrow_type)
    count = flat.__len__()
    nested = flat
    for size in reversed(values.shape[1:]):
        count //= size
        offsets = pa.array(np.arange(0, count * size + 1, size, dtype=np.int32))
        nested = pa.ListArray.from_arrays(offsets, nested)
    assert count == m
    return pa.ExtensionArray.from_storage(arrow_type, nested.cast(arrow_type.storage_type))


def encode_parquet(table: pa.Table, config: ZooConfigLike) -> memoryview:
    """``table`` (rows of ``config``'s zoo) as the bytes of a shard: row groups of
    :func:`~zoo_data.archive.schema.rows_per_row_group` rows, dictionary encoding for the
    metadata columns only."""
    sink = pa.BufferOutputStream()
    # no dictionary encoding for the float tensors: their values are all distinct, and
    # the dictionary page written before the fallback to PLAIN costs ~45% more bytes
    pq.write_table(table.combine_chunks(), sink, row_group_size=rows_per_row_group(config),
                   use_dictionary=list(metadata_columns(config)))
    return memoryview(sink.getvalue())


def write_group(zoo_dir: str | os.PathLike, layout: ZooLayout, group_index: int,
                table: pa.Table) -> dict[str, str]:
    """Write training group ``group_index``'s rows ``table`` (the group's row order, the
    zoo's schema) as the group's files of ``layout``, each followed by its sidecar;
    returns ``{file name: sha256}``.

    Every sidecar of the group is removed first and every file is written atomically,
    so a crash at any point leaves the group incomplete (rebuilt as a whole on resume),
    never a file half written or wrong.

    Raises:
      ValueError: if ``table`` has another row count or schema than the group's.
      TinyZooError: if a file cannot be written or removed.
    """
    config = layout.config
    if table.num_rows != layout.rows(group_index):
        raise ValueError(f"{table.num_rows} rows for group {group_index}, which has "
                         f"{layout.rows(group_index)}")
    schema = zoo_features(config).arrow_schema
    if not table.schema.equals(schema, check_metadata=True):
        raise ValueError(f"rows of group {group_index} do not have the zoo's schema")
    data_dir = Path(zoo_dir) / DATA
    files = layout.group_files(group_index)
    for file in files:
        sidecar = data_dir / file.sidecar
        try:
            sidecar.unlink(missing_ok=True)
        except OSError as e:
            raise TinyZooError(f"{sidecar}: cannot remove ({e.strerror or e})") from e
    shas = {}
    for file in files:
        blob = encode_parquet(table.slice(file.start, file.rows), config)
        sha = hashlib.sha256(blob).hexdigest()
        atomic_write(data_dir / file.name, blob)
        write_sidecar(zoo_dir, layout, file, sha)
        shas[file.name] = sha
    return shas


def read_shard_table(path: str | os.PathLike, config: ZooConfigLike) -> pa.Table:
    """The rows of the shard at ``path`` as a table with exactly the zoo's schema
    (:func:`~zoo_data.archive.schema.zoo_features`), whichever way ``pyarrow`` reads back the
    ``Array2D`` columns.

    Raises:
      TinyZooError: naming ``path`` if it cannot be read or lacks a column of the zoo.
    """
    schema = zoo_features(config).arrow_schema
    try:
        read = read_columns(path, schema.names)
    except (OSError, pa.ArrowException) as e:
        raise TinyZooError(f"{path}: cannot read as a shard of this zoo ({e})") from e
    arrays = []
    for field in schema:
        column = read.column(field.name).combine_chunks()
        if isinstance(column, pa.ExtensionArray):
            column = column.storage
        want = field.type.storage_type if isinstance(field.type, pa.ExtensionType) \
            else field.type
        try:
            column = column.cast(want)
        except (pa.ArrowException, ValueError) as e:
            raise TinyZooError(f"{path}: column {field.name} is not {want} ({e})") from e
        if isinstance(field.type, pa.ExtensionType):
            column = pa.ExtensionArray.from_storage(field.type, column)
        arrays.append(column)
    table = pa.Table.from_arrays(arrays, schema=schema)
    return _sealed_labels_removed(table, config)


def _sealed_labels_removed(table: pa.Table, config: ZooConfigLike) -> pa.Table:
    """``table`` with the label columns of the sealed scheme's test models null, in a
    process whose test labels are sealed (:mod:`zoo_data.archive.seal`); as read,
    otherwise."""
    from zoo_data.archive.seal import sealed_scheme, test_labels_sealed

    if not test_labels_sealed():
        return table
    from zoo_data.archive.schema import LABEL_COLUMNS
    from zoo_data.archive.split_schemes import scheme_ids

    test = np.isin(table.column("model_id").to_numpy() // config.rows_per_model,
                   scheme_ids(config, sealed_scheme())["test"])
    for name in LABEL_COLUMNS:
        if name in table.column_names:
            column = table.column(name)
            masked = pa.array(np.where(test, None, column.to_pylist()).tolist(),
                              type=column.type)
            table = table.set_column(table.column_names.index(name), name, masked)
    return table


def group_table(tables: list[pa.Table]) -> pa.Table:
    """The rows of several shards of one group, in order, as one table."""
    return pa.concat_tables(tables).combine_chunks()
