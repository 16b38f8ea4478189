"""Synthetic zoos: the real schema and layout filled with random weights and labels.

For tests and for benchmarks of the data tools at scales nobody wants to train (a
``paper``-shaped zoo is 10,000 models of 437 KiB). Weights are standard normal
float32, ``test_sr`` is ``k / n_test`` with ``k`` uniform on ``0..n_test``, losses are
exponential; every value derives from ``(seed, group index)``. The folder is a complete
zoo: :func:`zoo_builder.zoo.load_zoo`, ``verify``, ``download`` and ``export`` treat it
like a built one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from flax.traverse_util import unflatten_dict
from tqdm.auto import tqdm

from zoo_builder import archive
from zoo_builder.presets import ZooConfig
from zoo_builder.train import GroupResult, training_groups

__all__ = ["synthetic_result", "write_synthetic_zoo"]


def synthetic_result(config: ZooConfig, group_index: int, seed: int = 0) -> GroupResult:
    """Random weights and labels for training group ``group_index`` of ``config``."""
    group = training_groups(config)[group_index]
    m = len(group.model_ids)
    rng = np.random.default_rng([seed, config.seed, group_index])
    flat = {
        tuple(path.split("/")): rng.standard_normal((m, *shape), np.float32)
        for path, shape in archive.tensor_shapes(config).items()
    }
    sr = rng.integers(0, config.n_test + 1, m) / config.n_test
    test_loss, train_loss = rng.exponential(1.0, (2, m))
    return GroupResult(group.model_ids, unflatten_dict(flat), sr.astype(np.float32),
                       test_loss.astype(np.float32), train_loss.astype(np.float32))


def write_synthetic_zoo(
    out: str | os.PathLike, config: ZooConfig, seed: int = 0, progress: bool = False
) -> Path:
    """Write a complete synthetic zoo of ``config`` into ``out`` (resumable: shards
    already complete are kept). Returns the folder."""
    zoo_dir = archive.prepare_zoo_dir(out, config)
    done = archive.complete_shards(zoo_dir, config)
    groups = training_groups(config)
    for group in tqdm(groups, desc="writing synthetic zoo", unit="shard", disable=not progress):
        if group.index not in done:
            archive.write_shard(zoo_dir, config, group.index,
                                synthetic_result(config, group.index, seed))
    archive.finalize(zoo_dir, config)
    return zoo_dir
