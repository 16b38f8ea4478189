"""Weight-space predictors: the UNF core (:mod:`predictors.unf`) and the predictors built
on it. They receive a weight-space spec and batches of weights; they never import the
builder.

``from predictors import Predictor, load_predictor, BUILTINS`` (imported on first use)."""

from __future__ import annotations

from zoo_data.lazy import lazy_exports

_EXPORTS = {
    "Predictor": "predictors.base",
    "load_predictor": "predictors.registry",
    "BUILTINS": "predictors.registry",
}

__all__ = list(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
