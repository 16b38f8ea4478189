"""``zoo_data.archive.writer``: the one write loop of imports, and its row tables."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.zoos import DATA_CONFIG
from zoo_data.archive.schema import metadata_columns, tensor_shapes
from zoo_data.archive.writer import rows_table, write_zoo
from zoo_data.errors import TinyZooError
from zoo_data.zoo import load_zoo


def _rows(ids) -> tuple[dict, dict]:
    ids = np.asarray(ids, np.int64)
    columns = {name: np.zeros(len(ids), np.dtype(dtype)) if dtype != "string"
               else np.array(["x"] * len(ids)) for name, dtype in
               metadata_columns(DATA_CONFIG).items()}
    columns["model_id"] = ids
    columns["test_sr"] = (ids % 7 / 7).astype(np.float32)
    rng = np.random.default_rng(0)
    tensors = {p: rng.normal(size=(len(ids), *s)).astype(np.float32)
               for p, s in tensor_shapes(DATA_CONFIG).items()}
    return columns, tensors


def test_write_zoo_writes_a_zoo_that_loads_with_its_values(tmp_path):
    layout = write_zoo(tmp_path / "zoo", DATA_CONFIG,
                       lambda g: rows_table(DATA_CONFIG, *_rows(g.model_ids)))
    zoo = load_zoo(tmp_path / "zoo")
    assert len(zoo) == DATA_CONFIG.num_models == sum(len(g.model_ids) for g in layout.groups)
    np.testing.assert_array_equal(zoo.labels, (zoo.model_ids % 7 / 7).astype(np.float32))


def test_write_zoo_resumes_after_a_kill_and_skips_complete_groups(tmp_path):
    calls: list[int] = []

    def failing(group):
        calls.append(group.index)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return rows_table(DATA_CONFIG, *_rows(group.model_ids))

    with pytest.raises(KeyboardInterrupt):
        write_zoo(tmp_path / "zoo", DATA_CONFIG, failing)
    with pytest.raises(TinyZooError):
        load_zoo(tmp_path / "zoo")  # not complete
    again: list[int] = []
    layout = write_zoo(tmp_path / "zoo", DATA_CONFIG,
                       lambda g: again.append(g.index)
                       or rows_table(DATA_CONFIG, *_rows(g.model_ids)))
    assert calls[0] not in again and len(again) == len(layout.groups) - 1
    assert len(load_zoo(tmp_path / "zoo")) == DATA_CONFIG.num_models


def test_rows_table_refuses_a_missing_column_or_a_wrong_shape():
    columns, tensors = _rows([0, 1])
    with pytest.raises(TinyZooError, match="column 'test_sr' is missing"):
        rows_table(DATA_CONFIG, {k: v for k, v in columns.items() if k != "test_sr"},
                   tensors)
    path = next(iter(tensors))
    with pytest.raises(TinyZooError, match=f"tensor '{path}' has shape"):
        rows_table(DATA_CONFIG, columns, {**tensors, path: tensors[path][:, :1]})
    with pytest.raises(TinyZooError, match=f"tensor '{path}' is missing"):
        rows_table(DATA_CONFIG, columns, {k: v for k, v in tensors.items() if k != path})
