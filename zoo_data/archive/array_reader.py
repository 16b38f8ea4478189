"""A zoo's rows held in memory: the reader of the zoo a sealed code submission gets
instead of a path (:mod:`zoo_data.sealed_zoo`, :mod:`benchmarks.sealed`).

:class:`ArrayReader` has the part of :class:`~zoo_data.archive.reader.ShardReader`'s
interface that :class:`~zoo_data.zoo.Zoo` uses: ``metadata`` (indexed by ``model_id``),
``shapes``, ``model_ids``, ``read(model_ids, columns)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zoo_data.archive.schema import tensor_shapes

__all__ = ["NO_PATH", "ArrayReader"]

#: The ``path`` of a zoo rebuilt from rows: names no folder of the machine.
NO_PATH = Path("<sealed zoo: rows received from the harness>")


class ArrayReader:
    """Rows in memory (module docstring).

    Args:
      config: the zoo's config.
      metadata: one row per model id (the index, ascending), the zoo's metadata columns.
      tensors: ``{path: (N, *shape) float32}`` in the order of ``metadata``'s rows.
      manifest_sha256: the zoo's identity (:attr:`zoo_data.zoo.Zoo.manifest_sha256`).
    """

    zoo_dir = NO_PATH

    def __init__(self, config, metadata: pd.DataFrame, tensors: dict[str, np.ndarray],
                 manifest_sha256: str) -> None:
        self.config = config
        self.shapes = tensor_shapes(config)
        self.metadata = metadata
        self.identity = {"manifest_sha256": manifest_sha256}
        self._tensors = tensors
        self._row_of_id = pd.Index(metadata.index.to_numpy())

    def __len__(self) -> int:
        return len(self.metadata)

    @property
    def model_ids(self) -> np.ndarray:
        return self.metadata.index.to_numpy()

    def read(self, model_ids, columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """``{path: (B, *shape) float32}`` of ``model_ids`` in that order.

        Raises:
          KeyError: naming the first id that is not in the zoo, or an unknown column."""
        ids = np.asarray(model_ids, np.int64).reshape(-1)
        rows = self._row_of_id.get_indexer(ids)
        if (rows < 0).any():
            raise KeyError(f"model id {int(ids[rows < 0][0])} is not in the zoo")
        names = list(self.shapes) if columns is None else list(columns)
        unknown = [c for c in names if c not in self.shapes]
        if unknown:
            raise KeyError(f"no tensor {unknown[0]!r} in the zoo's models")
        return {p: self._tensors[p][rows] for p in names}
