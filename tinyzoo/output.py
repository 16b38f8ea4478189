"""What the commands print besides plain lines: ``--json`` documents (stdout) and
messages for the user beside the result (stderr)."""

from __future__ import annotations

import json
import math
from typing import Any

import typer

__all__ = ["echo_json", "echo_err", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: NaN and infinities become ``None``, tuples lists,
    numpy scalars and arrays Python numbers and lists, paths strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def echo_json(document: Any) -> None:
    """Print ``document`` to stdout as one JSON document (numbers in full precision)."""
    typer.echo(json.dumps(jsonable(document), indent=2, allow_nan=False))


def echo_err(line: str) -> None:
    """A message beside the result, on stderr (stdout holds the result only)."""
    typer.echo(line, err=True)
