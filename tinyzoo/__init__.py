"""The ``tinyzoo`` command-line interface of the Tiny RNN Zoo (the top layer)."""

from zoo_data.version import __version__

__all__ = ["__version__"]
