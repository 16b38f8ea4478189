"""Per-model hyperparameters and random keys, derived from ``(zoo seed, model id)`` only.

- learning rate: log-uniform on ``[lr_min, lr_max]``;
- batch size: uniform on ``batch_sizes``;
- initialisation and batch keys: ``fold_in(PRNGKey(seed), model_id)``
  (:func:`zoo_builder.train.model_key`).

Because nothing depends on which other models are built, or where, any subset of a zoo
can be built separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo_data.presets import ZooConfig

__all__ = ["ModelHParams", "model_hparams"]


@dataclass(frozen=True)
class ModelHParams:
    model_id: int
    learning_rate: float
    batch_size: int


def model_hparams(config: ZooConfig, model_id: int) -> ModelHParams:
    """The hyperparameters of model ``model_id`` of the zoo ``config``."""
    if not 0 <= model_id < config.num_models:
        raise ValueError(f"model id {model_id} outside 0..{config.num_models - 1}")
    rng = np.random.default_rng([config.seed, model_id, 0x4B9])
    log_lr = rng.uniform(np.log(config.lr_min), np.log(config.lr_max))
    batch = int(rng.choice(np.asarray(config.batch_sizes)))
    return ModelHParams(model_id, float(np.exp(log_lr)), batch)

