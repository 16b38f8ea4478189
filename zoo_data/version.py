"""The installed version of tiny-rnn-zoo and of the libraries its results depend on
(no project imports: the bottom layer)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__", "package_versions"]

try:
    __version__ = version("tiny-rnn-zoo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    """``{name: installed version or "unknown"}`` for each distribution in ``names``
    (recorded in zoo manifests and result records)."""
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out
