"""Synthetic zoos: the real schema and layout filled with random weights and labels.

For tests and for benchmarks of the data tools at scales nobody wants to train (a
``paper``-shaped zoo is 10,000 models of 437 KiB). Weights are standard normal
float32, ``test_sr`` is ``k / n_test`` with ``k`` uniform on ``0..n_test``, losses are
exponential; every value derives from ``(seed, group index)``. The folder is a complete
zoo: :func:`zoo_data.zoo.load_zoo`, ``verify``, ``download`` and ``export`` treat it
like a built one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo_builder.shards import Checkpoint, GroupResult, write_shard
from zoo_data.archive.folder import complete_shards, finalize, prepare_zoo_dir
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.schema import tensor_shapes
from zoo_data.common.progress import progress_bar
from zoo_data.common.trees import nest
from zoo_data.rnn.presets import ZooConfig

__all__ = ["synthetic_result", "write_synthetic_zoo"]


def synthetic_result(layout: ZooLayout, group_index: int, seed: int = 0) -> GroupResult:
    """Random weights and labels for training group ``group_index`` of ``layout``'s zoo."""
    config = layout.config
    group = layout.groups[group_index]
    m = len(group.model_ids)
    rng = np.random.default_rng([seed, config.seed, group_index])
    flat = {
        path: rng.standard_normal((m, *shape), np.float32)
        for path, shape in tensor_shapes(config).items()
    }
    sr = rng.integers(0, config.n_test + 1, m) / config.n_test
    test_loss, train_loss = rng.exponential(1.0, (2, m))
    checkpoints = {}
    for step in config.checkpoint_steps[:-1]:  # earlier checkpoints: drawn after the last
        weights = {path: rng.standard_normal(x.shape, np.float32) for path, x in flat.items()}
        labels = rng.integers(0, config.n_test + 1, m) / config.n_test
        losses = rng.exponential(1.0, (2, m)).astype(np.float32)
        checkpoints[step] = Checkpoint(nest(weights), labels.astype(np.float32), *losses)
    return GroupResult(group.model_ids, nest(flat), sr.astype(np.float32),
                       test_loss.astype(np.float32), train_loss.astype(np.float32),
                       checkpoints=checkpoints)


def write_synthetic_zoo(
    out: str | os.PathLike, config: ZooConfig, seed: int = 0, progress: bool = False
) -> Path:
    """Write a complete synthetic zoo of ``config`` into ``out`` (resumable: shards
    already complete are kept). Returns the folder."""
    layout = ZooLayout.of(config)
    zoo_dir = prepare_zoo_dir(out, layout)
    done = complete_shards(zoo_dir, layout)
    with progress_bar(len(layout.groups), "writing synthetic zoo", "shard",
                      enabled=progress) as bar:
        for group in layout.groups:
            if group.index not in done:
                write_shard(zoo_dir, layout, group.index,
                            synthetic_result(layout, group.index, seed))
            bar.update(1)
    finalize(zoo_dir, layout)
    return zoo_dir
