"""The devices a build runs on: a 1-D mesh over the local accelerators (or CPU host
devices) whose one axis, ``"models"``, shards a training group's model blocks."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import Mesh

from zoo_data.errors import TinyZooError

__all__ = ["model_mesh", "select_devices"]


def model_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh, axis ``"models"``, over ``devices`` (default: every local device of the
    default backend)."""
    devices = list(jax.local_devices() if devices is None else devices)
    if not devices:
        raise ValueError("no devices to build on")
    return Mesh(np.array(devices), ("models",))


def select_devices(count: int | None = None) -> tuple[jax.Device, ...]:
    """The first ``count`` local devices of the default backend (all of them if ``None``);
    :class:`TinyZooError` naming the count if there are fewer."""
    devices = tuple(jax.local_devices())
    if count is None:
        return devices
    if not 1 <= count <= len(devices):
        raise TinyZooError(
            f"devices {count}: this host has {len(devices)} {jax.default_backend()} "
            "device(s)"
        )
    return devices[:count]
