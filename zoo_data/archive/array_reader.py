"""A zoo's rows held in memory, test labels removed: what a sealed code submission gets
instead of a path to the zoo (:mod:`benchmarks.sealed`).

The parent process, which verified the zoo, cuts it into plain data with
:func:`sealed_rows` (the manifest, the metadata table with the label columns of the
split scheme's test rows set to NaN, and every row's tensors) and sends that through a
pipe; the child rebuilds a :class:`~zoo_data.zoo.Zoo` on it with :func:`zoo_from_rows`.
The child's zoo therefore never held a test label, whatever it calls, and names no
folder (its ``path`` is :data:`NO_PATH`).

:class:`ArrayReader` has the part of :class:`~zoo_data.archive.reader.ShardReader`'s
interface that :class:`~zoo_data.zoo.Zoo` uses: ``metadata`` (indexed by ``model_id``),
``shapes``, ``model_ids``, ``read(model_ids, columns)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zoo_data.archive.schema import LABEL_COLUMNS, tensor_shapes

__all__ = ["NO_PATH", "ArrayReader", "sealed_rows", "zoo_from_rows"]

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


def sealed_rows(zoo, chunk_rows: int = 256):
    """The rows of ``zoo`` (an open, verified :class:`~zoo_data.zoo.Zoo`, any split) for
    a sealed process, as a stream of plain-data messages: first ``("zoo", header)``
    with the manifest, config, split scheme, identity, metadata (test labels NaN) and
    tensor shapes, then ``("rows", (start, {path: array}))`` chunks of
    ``chunk_rows`` models in metadata order, so that no message holds the whole zoo."""
    from zoo_data.archive.split_schemes import scheme_ids

    whole = zoo.with_split(None)
    frame = whole._reader.metadata.copy()
    runs = frame.index.to_numpy() // zoo.config.rows_per_model
    test = np.isin(runs, scheme_ids(zoo.config, zoo.split_scheme)["test"])
    for column in LABEL_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].where(~test)
    ids = frame.index.to_numpy()
    yield "zoo", {"manifest": zoo.manifest, "split_scheme": zoo.split_scheme,
                  "manifest_sha256": zoo.manifest_sha256, "metadata": frame,
                  "num_rows": len(ids)}
    for start in range(0, len(ids), chunk_rows):
        yield "rows", (start, zoo.tensors(ids[start:start + chunk_rows]))


def zoo_from_rows(messages):
    """The :class:`~zoo_data.zoo.Zoo` (all splits) of the messages of
    :func:`sealed_rows`, received in order (an iterator of ``(kind, payload)``)."""
    from zoo_data.archive.manifest import manifest_config
    from zoo_data.zoo import Zoo

    kind, header = next(messages)
    assert kind == "zoo", kind
    config = manifest_config(header["manifest"], "the harness's manifest")
    n = header["num_rows"]
    shapes = tensor_shapes(config)
    tensors = {p: np.empty((n, *shape), np.float32) for p, shape in shapes.items()}
    filled = 0
    while filled < n:
        kind, (start, chunk) = next(messages)
        assert kind == "rows" and start == filled, (kind, start, filled)
        size = len(next(iter(chunk.values())))
        for path, values in chunk.items():
            tensors[path][start:start + size] = values
        filled += size
    reader = ArrayReader(config, header["metadata"], tensors, header["manifest_sha256"])
    return Zoo(NO_PATH, header["manifest"], config, None, reader,
               split_scheme=header["split_scheme"])
