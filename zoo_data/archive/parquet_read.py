"""Reading columns of one Parquet file without Arrow's dataset scanner.

``pyarrow.parquet.read_table`` goes through ``pyarrow.dataset``, whose scanner threads can
still be alive when the interpreter exits; their ``std::thread`` destructors then call
``std::terminate`` and a process that finished its work exits with SIGABRT (apache/arrow
issues 34314 and 45017; seen here as ``terminate called without an active exception``
from ``tinyzoo`` children on a loaded 2-core machine). :func:`read_columns` reads through
a single ``ParquetFile``, on the calling thread, and closes it before returning.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq


def read_columns(path: str | os.PathLike, columns: list[str]) -> pa.Table:
    """The ``columns`` of the Parquet file at ``path``, in that order, as one table.

    Raises:
      OSError or pyarrow.ArrowException: as ``pyarrow`` does for an unreadable file, and
        ``pyarrow.ArrowInvalid`` naming a missing column (``ParquetFile.read`` would skip
        it silently); callers name ``path`` in their own error.
    """
    with pq.ParquetFile(path, memory_map=False) as file:
        present = set(file.schema_arrow.names)
        missing = [name for name in columns if name not in present]
        if missing:
            raise pa.ArrowInvalid(f"no column {missing[0]!r} (has {sorted(present)})")
        return file.read(columns=list(columns), use_threads=False)
