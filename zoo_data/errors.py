"""The user-facing error type of the Tiny RNN Zoo (no project imports: the bottom layer)."""

from __future__ import annotations

__all__ = ["TinyZooError", "one_line"]


class TinyZooError(ValueError):
    """A user-facing error: bad input, a config mismatch, a corrupt file.

    Its message names the file, key or value at fault. The CLI prints it on one line and
    exits 2. It is a ``ValueError`` because every such error is a bad value handed in by
    the user (a path, a preset name, a manifest field).
    """


def one_line(message: object) -> str:
    """``message`` with its lines stripped and joined by spaces (``"unknown error"`` if
    empty): error texts of other libraries often span several lines."""
    parts = [part.strip() for part in str(message).splitlines()]
    return " ".join(part for part in parts if part) or "unknown error"
