"""The Tiny RNN Zoo's builder: training, the optimiser, the fused cell, local and Ray
builds, shard writing. It reads what a zoo is from :mod:`zoo_data` and writes zoos
there; nothing below it imports it.

``from zoo_builder import build_zoo, BuildRequest, run_build`` (imported on first use)."""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BuildRequest": "zoo_builder.request",
    "run_build": "zoo_builder.build",
    "build_zoo": "zoo_builder.build",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'zoo_builder' has no attribute {name!r}")
