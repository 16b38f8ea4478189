"""A zoo as plain data without its test labels: what a sealed code submission gets
instead of a path to the zoo (:mod:`benchmarks.sealed`).

The parent process, which verified the zoo, cuts it into messages with
:func:`sealed_rows` (the manifest, the metadata table with the label columns of the
split scheme's test rows set to NaN, and every row's tensors) and sends them through a
socket; the child rebuilds a :class:`~zoo_data.zoo.Zoo` on them with
:func:`zoo_from_rows` (an :class:`~zoo_data.archive.array_reader.ArrayReader`). The
child's zoo therefore never held a test label, whatever it calls, and names no folder
(its ``path`` is :data:`~zoo_data.archive.array_reader.NO_PATH`).
"""

from __future__ import annotations

import numpy as np

from zoo_data.archive.array_reader import NO_PATH, ArrayReader
from zoo_data.archive.schema import LABEL_COLUMNS, tensor_shapes
from zoo_data.zoo import Zoo

__all__ = ["sealed_rows", "zoo_from_rows"]


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
