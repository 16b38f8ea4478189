"""The ``tinyzoo`` command-line interface of the Tiny RNN Zoo (the top layer).

Importing it imports nothing else, so that the console script can re-run itself under
tcmalloc (:mod:`tinyzoo.allocator`) before any heavy import; ``__version__`` is read on
first use.
"""

__all__ = ["__version__"]


def __getattr__(name: str):
    if name == "__version__":
        from zoo_data.version import __version__

        return __version__
    raise AttributeError(f"module 'tinyzoo' has no attribute {name!r}")
