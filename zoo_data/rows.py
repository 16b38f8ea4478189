"""A zoo's rows outside the :class:`~zoo_data.zoo.Zoo` view: every row as a ``datasets``
dataset (:func:`load_rows`), and a predictor's declared metadata columns of a batch
(:class:`Columns`). :mod:`zoo_data.zoo` re-exports both."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zoo_data.archive.layout import DATA
from zoo_data.errors import TinyZooError

__all__ = ["Columns", "load_rows"]


class Columns(Mapping):
    """Some metadata columns of a batch of models, ``{name: (B,) float64}``, that names
    the reader in its errors: looking up a column it was not given raises a one-line
    :class:`TinyZooError` (a predictor that reads a column it did not declare)."""

    def __init__(self, values: dict[str, np.ndarray], reader: str) -> None:
        self._values, self._reader = values, reader

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._values:
            raise TinyZooError(f"{self._reader}: reads metadata column {name!r}, which it "
                               f"did not declare (declared: {', '.join(self._values)})")
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def load_rows(zoo_dir: str | os.PathLike, cache_dir: str | os.PathLike | None = None):
    """Every model of the zoo in ``zoo_dir`` as a ``datasets.Dataset`` sorted by
    ``model_id``, with the features of :func:`zoo_data.archive.schema.zoo_features`
    (``Array2D`` and fixed-length list columns for the tensors). Reads only the Parquet
    shards (every visible ``data/*.parquet``, whichever split their names say, so a
    format-1 and a format-2 zoo give the same rows), through ``datasets``.

    Raises:
      TinyZooError: if ``zoo_dir/data`` holds no shard, or in a process whose test labels
        are sealed (:mod:`zoo_data.archive.seal`).
    """
    import datasets

    from zoo_data.archive.seal import refuse_if_sealed

    refuse_if_sealed(f"load_rows({zoo_dir})", True)  # every row: the test labels too
    data_dir = Path(zoo_dir) / DATA
    files = sorted(str(p) for p in data_dir.glob("*.parquet")
                   if not p.name.startswith(".")) if data_dir.is_dir() else []
    if not files:
        raise TinyZooError(f"{data_dir}: no zoo shards (*.parquet) to load")
    ds = datasets.load_dataset(
        "parquet",
        data_files=files,
        split="train",  # a list of files is one split, named train by datasets
        cache_dir=None if cache_dir is None else str(cache_dir),
    )
    order = np.argsort(np.asarray(ds.data.column("model_id")), kind="stable")
    return ds.select(order)
