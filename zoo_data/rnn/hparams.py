"""Per-model hyperparameters and random keys, derived from ``(zoo seed, model id)`` only.

- learning rate: log-uniform on ``[lr_min, lr_max]``; batch size: uniform on
  ``batch_sizes`` (both from ``numpy.random.default_rng([seed, id, 0x4B9])``);
- the optional variations of :data:`zoo_data.rnn.presets.VARIATIONS`, each from a generator
  of its own, ``default_rng([seed, id, 0x4BA + k])`` with ``k`` its position in that
  table, so adding or removing one variation never changes another's values (not
  ``[seed, id, 0x4B9, k]``: numpy's ``SeedSequence`` ignores trailing zero words, so
  ``k = 0`` would replay the learning rate's generator):

  - ``init_scale`` ``s``: every initial parameter tensor (flax's initialisers) is
    multiplied by ``s``;
  - ``weight_decay`` ``λ``: decoupled (AdamW) decay after each Adam update,
    ``p ← p − lr_t λ p`` with ``lr_t`` the scheduled learning rate;
  - ``data_fraction`` ``f``: the model trains on its own subset of the training pool,
    the first ``max(1, round(f · pool))`` problems of a permutation of the pool drawn
    from ``default_rng([seed, id, 0xDA7A])`` (:func:`training_subset`);
  - ``adam_b1``: Adam's first-moment decay;
  - ``clip_norm`` ``c``: gradients are scaled by ``min(1, c / ‖g‖₂)`` (global norm over
    every tensor) before Adam;
- initialisation and batch keys: ``fold_in(PRNGKey(seed), model_id)``
  (:func:`zoo_builder.train.model_key`).

Because nothing depends on which other models are built, or where, any subset of a zoo
can be built separately.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from zoo_data.families.base import HyperparameterEncoding
from zoo_data.rnn.presets import VARIATIONS, ZooConfig

__all__ = ["HYPERPARAMETERS", "ModelHParams", "model_hparams", "sampled_hyperparameters",
           "training_subset", "hyperparameter_encoding", "hyperparameter_features"]

#: The hyperparameters every Tiny RNN Zoo samples per model; a zoo may vary more
#: (:func:`sampled_hyperparameters`).
HYPERPARAMETERS = ("learning_rate", "batch_size")


@dataclass(frozen=True)
class ModelHParams:
    """One model's hyperparameters; the variations hold their defaults when the zoo does
    not vary them (``clip_norm`` ``inf``: no clipping)."""

    model_id: int
    learning_rate: float
    batch_size: int
    init_scale: float = 1.0
    weight_decay: float = 0.0
    data_fraction: float = 1.0
    adam_b1: float = 0.9
    clip_norm: float = field(default=math.inf)


def _draw(distribution: str, low: float, high: float, rng: np.random.Generator) -> float:
    if distribution == "log-uniform":
        return float(np.exp(rng.uniform(np.log(low), np.log(high))))
    return float(rng.uniform(low, high))


def model_hparams(config: ZooConfig, model_id: int) -> ModelHParams:
    """The hyperparameters of model ``model_id`` of the zoo ``config``."""
    if not 0 <= model_id < config.num_models:
        raise ValueError(f"model id {model_id} outside 0..{config.num_models - 1}")
    rng = np.random.default_rng([config.seed, model_id, 0x4B9])
    log_lr = rng.uniform(np.log(config.lr_min), np.log(config.lr_max))
    batch = int(rng.choice(np.asarray(config.batch_sizes)))
    extra = {}
    for k, (name, (distribution, _, _, _)) in enumerate(VARIATIONS.items()):
        bounds = getattr(config, name)
        if bounds is not None:
            extra[name] = _draw(distribution, *bounds,
                                np.random.default_rng([config.seed, model_id, 0x4BA + k]))
    return ModelHParams(model_id, float(np.exp(log_lr)), batch, **extra)


def sampled_hyperparameters(config: ZooConfig) -> tuple[str, ...]:
    """The names of the hyperparameters the zoo samples per model (its metadata columns):
    ``learning_rate``, ``batch_size``, then the varied :data:`VARIATIONS` in table
    order."""
    return (*HYPERPARAMETERS, *config.varied)


def training_subset(config: ZooConfig, hparams: ModelHParams, pool_size: int) -> np.ndarray:
    """The pool indices model ``hparams.model_id`` trains on, ``(n,)`` int32 with
    ``n = max(1, round(data_fraction · pool_size))``: a prefix of a permutation of the
    pool drawn from ``default_rng([seed, id, 0xDA7A])``. The whole pool, in order, when
    the zoo does not vary ``data_fraction``."""
    if config.data_fraction is None:
        return np.arange(pool_size, dtype=np.int32)
    n = max(1, int(round(hparams.data_fraction * pool_size)))
    perm = np.random.default_rng([config.seed, hparams.model_id, 0xDA7A]).permutation(pool_size)
    return perm[:n].astype(np.int32)


def hyperparameter_features(names: tuple[str, ...], columns: Mapping[str, np.ndarray]
                            ) -> np.ndarray:
    """Polynomial features ``(B, F)`` float32 of the metadata ``columns`` (each ``(B,)``)
    named ``names`` (:func:`hyperparameter_encoding`). With ``l = log lr`` and
    ``b = log batch size``: ``[l, l², l³, b, b², l b]``, then ``[v, v², v l]`` for each
    other name ``v`` (its log when :data:`~zoo_data.rnn.presets.VARIATIONS` draws it
    log-uniformly), then, if ``"step"`` is among the names, ``s = log step`` and
    ``[s, s², s l, s b]`` and ``s v`` for each other ``v``."""
    lr = np.log(columns["learning_rate"])
    bs = np.log(columns["batch_size"])
    terms = [lr, lr**2, lr**3, bs, bs**2, lr * bs]
    others = []
    for name in names:
        if name in (*HYPERPARAMETERS, "step"):
            continue
        v = columns[name]
        v = np.log(v) if VARIATIONS[name][0] == "log-uniform" else v
        others.append(v)
        terms += [v, v**2, v * lr]
    if "step" in names:
        s = np.log(columns["step"])
        terms += [s, s**2, s * lr, s * bs, *(s * v for v in others)]
    return np.stack(terms, axis=1).astype(np.float32)


def hyperparameter_encoding(config: ZooConfig) -> HyperparameterEncoding:
    """What the hyperparameter reference reads of a Tiny RNN Zoo: every sampled
    hyperparameter (:func:`sampled_hyperparameters`) and, in a zoo with checkpoints, the
    row's ``step`` (everything the zoo's design sets, nothing training produced), encoded
    by :func:`hyperparameter_features`."""
    names = sampled_hyperparameters(config)
    if config.checkpoints is not None:
        names = (*names, "step")
    return HyperparameterEncoding(names, partial(hyperparameter_features, names))
