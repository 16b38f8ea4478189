"""Shards are read without Arrow's dataset scanner (zoo_data/archive/parquet_read.py),
whose threads could abort a finished process at exit, and a missing column is still an
error naming the file."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zoo_data.archive.label_file import label_file_of_shards
from zoo_data.archive.parquet_read import read_columns
from zoo_data.archive.shard_files import read_shard_table
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo


def test_shards_and_labels_are_read_without_the_dataset_scanner(synthetic_zoo,
                                                                monkeypatch):
    zoo = open_local_zoo(synthetic_zoo)
    shards = sorted((synthetic_zoo / "data").glob("*.parquet"))
    expected = [pq.read_table(p) for p in shards]

    def scanner(*args, **kwargs):
        raise AssertionError("pyarrow.parquet.read_table (the dataset scanner) was used")

    monkeypatch.setattr(pq, "read_table", scanner)
    for path, want in zip(shards, expected, strict=True):
        table = read_shard_table(path, zoo.config)
        assert table.column("model_id").to_pylist() == want.column("model_id").to_pylist()
        assert table.column("test_sr").to_pylist() == want.column("test_sr").to_pylist()
    labels = label_file_of_shards(synthetic_zoo, [p.name for p in shards])
    assert labels  # the label file's bytes, read shard by shard


def test_a_missing_column_is_refused_not_skipped(tmp_path):
    path = tmp_path / "one.parquet"
    pq.write_table(pa.table({"model_id": np.arange(3)}), path)
    assert read_columns(path, ["model_id"]).column(0).to_pylist() == [0, 1, 2]
    with pytest.raises(pa.ArrowInvalid, match="no column 'test_sr'"):
        read_columns(path, ["model_id", "test_sr"])


def test_a_shard_without_a_zoo_column_names_the_file(synthetic_zoo, tmp_path):
    zoo = open_local_zoo(synthetic_zoo)
    shard = sorted((synthetic_zoo / "data").glob("*.parquet"))[0]
    cut = tmp_path / shard.name
    pq.write_table(pq.read_table(shard).drop_columns(["test_sr"]), cut)
    with pytest.raises(TinyZooError, match=f"{cut}: cannot read as a shard.*'test_sr'"):
        read_shard_table(cut, zoo.config)
