"""Package roots that name their public objects without importing them (PEP 562): the
object's module is imported on first use, so ``import zoo_data`` (or ``predictors``,
``benchmarks``) costs nothing and the CLI starts fast. No project imports."""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package`` for ``exports`` (``{name: module}``):
    ``package.name`` imports ``module`` and returns its ``name``; any other name raises
    ``AttributeError``."""

    def __getattr__(name: str) -> object:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
