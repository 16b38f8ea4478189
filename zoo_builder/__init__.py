"""The Tiny RNN Zoo's builder: training, the optimiser, the fused cell, local and Ray
builds, shard writing. It reads what a zoo is from :mod:`zoo_data` and writes zoos
there; nothing below it imports it.

``from zoo_builder import build_zoo, BuildRequest, run_build`` (imported on first use)."""

from __future__ import annotations

from zoo_data.lazy import lazy_exports

_EXPORTS = {
    "BuildRequest": "zoo_builder.request",
    "run_build": "zoo_builder.build",
    "build_zoo": "zoo_builder.build",
}

__all__ = list(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
