"""The user-facing error type of the Tiny RNN Zoo."""


class TinyZooError(Exception):
    """A user-facing error: bad input, a config mismatch, a corrupt file.

    The CLI prints its message on one line and exits 2.
    """
