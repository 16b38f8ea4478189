"""Weight-space predictors: the UNF core (:mod:`predictors.unf`) and the predictors built
on it. They receive a weight-space spec and batches of weights; they never import the
builder.

``from predictors import Predictor, load_predictor, BUILTINS`` (imported on first use)."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Predictor": "predictors.base",
    "load_predictor": "predictors.registry",
    "BUILTINS": "predictors.registry",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'predictors' has no attribute {name!r}")
