"""A zoo's label file: every row's ``model_id`` and label (``test_sr``), as bytes whose
sha256 the zoo's manifest records (``labels_sha256``).

The board checks a record's test labels against it where the zoo itself is absent
(:mod:`benchmarks.label_check`): a committed copy of the file is trusted only if its
sha256 is the one in the zoo's manifest, and the manifest only if its own sha256 is
the zoo's identity that the record names. It holds every row, not only the default
split's test rows, so that one file serves every split scheme
(:mod:`zoo_data.archive.split_schemes`).

Format (ASCII, ``\\n`` line ends, no trailing spaces)::

    model_id,test_sr
    0,0.28099998831748962
    1,0.38100001215934753
    ...

one line per row in increasing ``model_id`` (a zoo with checkpoints has
``rows_per_model`` rows per model), the label written as ``repr`` of the float32 value
widened to float64, so that reading it back gives the stored float32 exactly.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np

from zoo_data.archive.layout import DATA
from zoo_data.archive.schema import LABEL
from zoo_data.errors import TinyZooError

__all__ = ["HEADER", "LABELS_KEY", "MAX_LABEL_FILE_BYTES", "label_file_bytes",
           "label_file_of_shards", "parse_label_file", "check_label_file"]

#: The manifest key that records the label file's sha256.
LABELS_KEY = "labels_sha256"
#: The file's first line.
HEADER = f"model_id,{LABEL}"
#: Most bytes a label file may have (the paper zoo's 10,000 rows take about 250 KB).
MAX_LABEL_FILE_BYTES = 16 << 20

_LINE = re.compile(r"(0|[1-9][0-9]{0,8}),([0-9][0-9.e+-]{0,30})")


def label_file_bytes(model_ids: np.ndarray, labels: np.ndarray) -> bytes:
    """The label file of rows ``model_ids (N,)`` with labels ``labels (N,)`` (float32),
    sorted by id (module docstring)."""
    model_ids = np.asarray(model_ids, np.int64)
    labels = np.asarray(labels, np.float32)
    order = np.argsort(model_ids, kind="stable")
    lines = [HEADER]
    lines += [f"{int(i)},{float(v)!r}" for i, v in zip(model_ids[order], labels[order],
                                                        strict=True)]
    return ("\n".join(lines) + "\n").encode("ascii")


def label_file_of_shards(zoo_dir: str | os.PathLike, shard_names: list[str]) -> bytes:
    """The label file of the zoo in ``zoo_dir`` read from its shards ``shard_names``
    (their ``model_id`` and label columns only).

    Raises:
      TinyZooError: in a process whose test labels are sealed
        (:mod:`zoo_data.archive.seal`), or naming a shard that cannot be read.
    """
    import pyarrow as pa

    from zoo_data.archive.parquet_read import read_columns
    from zoo_data.archive.seal import refuse_if_sealed

    refuse_if_sealed(f"the label file of {zoo_dir}", True)
    ids, labels = [], []
    for name in shard_names:
        path = Path(zoo_dir) / DATA / name
        try:
            table = read_columns(path, ["model_id", LABEL])
        except (OSError, pa.ArrowException) as e:
            raise TinyZooError(f"{path}: cannot read its labels ({e})") from e
        ids.append(table.column("model_id").to_numpy())
        labels.append(table.column(LABEL).to_numpy())
    if not ids:
        raise TinyZooError(f"{zoo_dir}: no shards to read labels from")
    return label_file_bytes(np.concatenate(ids), np.concatenate(labels))


def parse_label_file(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(model_ids (N,) int64, labels (N,) float32)`` of a label file's bytes.

    Raises:
      TinyZooError: one line naming ``where`` and the line at fault: too large, not
        ASCII, another header, a malformed line, ids not strictly increasing, a label
        that is not a finite number in [0, 1].
    """
    if len(raw) > MAX_LABEL_FILE_BYTES:
        raise TinyZooError(f"{where}: {len(raw):,} bytes, more than the "
                           f"{MAX_LABEL_FILE_BYTES:,} a label file may have")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise TinyZooError(f"{where}: not an ASCII label file") from None
    lines = text.split("\n")
    if lines[0] != HEADER or lines[-1] != "":
        raise TinyZooError(f"{where}: not a label file (its first line must be "
                           f"{HEADER!r} and its last end with a newline)")
    ids, labels = [], []
    for number, line in enumerate(lines[1:-1], start=2):
        match = _LINE.fullmatch(line)
        value = None
        if match is not None:
            try:
                value = float(match.group(2))
            except ValueError:
                value = None
        if value is None or not 0.0 <= value <= 1.0:
            raise TinyZooError(f"{where}: line {number} {line[:40]!r}: need "
                               "'model_id,label' with a label in [0, 1]")
        model_id = int(match.group(1))
        if ids and model_id <= ids[-1]:
            raise TinyZooError(f"{where}: line {number}: model_id {model_id} after "
                               f"{ids[-1]} (ids must increase)")
        ids.append(model_id)
        labels.append(value)
    return np.asarray(ids, np.int64), np.asarray(labels, np.float32)


def check_label_file(raw: bytes, manifest: dict, where: str) -> None:
    """Refuse label-file bytes ``raw`` unless their sha256 is the manifest's
    ``labels_sha256``.

    Raises:
      TinyZooError: one line naming ``where``: the manifest records no label file (a zoo
        built before it did: rebuild or migrate it), or the file is another.
    """
    want = manifest.get(LABELS_KEY)
    if want is None:
        raise TinyZooError(f"{where}: the zoo's manifest records no {LABELS_KEY} (built "
                           "before label files; 'tinyzoo migrate' adds it)")
    got = hashlib.sha256(raw).hexdigest()
    if got != want:
        raise TinyZooError(f"{where}: sha256 {got[:12]}... is not the manifest's "
                           f"{LABELS_KEY} {want[:12]}...: not this zoo's labels")
