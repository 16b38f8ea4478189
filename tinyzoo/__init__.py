"""The ``tinyzoo`` command-line interface of the Tiny RNN Zoo."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tiny-rnn-zoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
