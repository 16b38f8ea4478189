"""Reference rows: what a zoo's success rates give away without reading the weights.

A weight-space method is worth what it gains over these; every board shows them.

- :class:`HParams` (reads metadata): every hyperparameter the zoo samples per model
  (:func:`zoo_data.rnn.hparams.sampled_hyperparameters`) and, in a zoo with checkpoints, the
  row's ``step``: everything the zoo's design sets, nothing training produced. With
  ``l = log lr`` and ``b = log batch size`` its features are ``[l, l², l³, b, b², l b]``
  (the whole set for zoos that vary only these two), then ``[v, v², v l]`` for each
  other hyperparameter ``v`` (its log when it is log-uniform), then for ``s = log step``
  ``[s, s², s l, s b]`` and ``s v`` for each other ``v``; standardised with the train
  split's statistics, into an MLP of two hidden layers of 64: it contains the
  least-squares fit of SR on these terms as a special case.
- :class:`TrainLoss` (reads metadata): the final train loss the zoo stores, a
  training-time signal, not a weight-space one. Feature ``log(train loss)``,
  standardised, into :func:`monotone_head`: a monotone map, so it ranks by the loss
  itself, in the direction the train split says.
- :class:`ProbeOracle` (reads the function): each model, from its archived weights, run
  greedily on ``K`` fresh problems drawn from the zoo's training distribution (uniform
  over the training pool, with replacement, as training batches are; never the held-out
  test problems that define SR), its accuracy on them into :func:`monotone_head`: how
  far weight-space methods are from simply evaluating the network.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from predictors.base import Predictor
from predictors.mlp import MLP
from zoo_data.archive.schema import HYPERPARAMETERS
from zoo_data.cnn.config import (
    CATEGORICAL_HYPERPARAMETERS,
    NUMERIC_HYPERPARAMETERS,
    CNNZooConfig,
)
from zoo_data.errors import TinyZooError
from zoo_data.rnn.hparams import sampled_hyperparameters
from zoo_data.rnn.model import Seq2Seq, greedy_success
from zoo_data.rnn.presets import VARIATIONS, ZooConfig, problem_sets
from zoo_data.rnn.task import VOCAB_SIZE

__all__ = ["HParams", "TrainLoss", "ProbeOracle", "monotone_head"]


def monotone_head() -> nn.Module:
    """``Dense(1)`` on one standardised feature with its weight initialised at 0: the
    first gradient step sets the weight's sign to that of the feature's covariance with
    SR on the train split, so the ranking's direction is learned from the data, never
    left to the initialisation (a random initial weight of the wrong sign would not
    flip within the protocol's few hundred steps at learning rate 1e-3)."""
    return nn.Dense(1, kernel_init=nn.initializers.zeros_init())


class HParams(Predictor):
    """Every sampled hyperparameter (and the checkpoint step) as polynomial features into
    a small MLP (module docstring)."""

    name = "hparams"
    display_name = "Hyperparameters only"
    reads = "metadata"
    metadata_columns = HYPERPARAMETERS
    cache_features = True
    standardize_features = True
    #: categorical hyperparameter -> its number of values (a CNN zoo's, set by bind)
    _categories: dict[str, int] = {}  # noqa: RUF012 (never mutated: bind assigns a new dict)

    def bind(self, config: ZooConfig | CNNZooConfig) -> None:
        self._categories: dict[str, int] = {}
        if isinstance(config, CNNZooConfig):
            self.metadata_columns = (*NUMERIC_HYPERPARAMETERS, *CATEGORICAL_HYPERPARAMETERS)
            self._categories = {n: len(v) for n, v in config.categories}
            return
        names = sampled_hyperparameters(config)
        if config.checkpoints is not None:
            names = (*names, "step")
        self.metadata_columns = names

    def features(self, columns, spec: Any) -> np.ndarray:
        if self._categories:
            return self._cnn_features(columns)
        lr = np.log(columns["learning_rate"])
        bs = np.log(columns["batch_size"])
        terms = [lr, lr**2, lr**3, bs, bs**2, lr * bs]
        others = []
        for name in self.metadata_columns:
            if name in (*HYPERPARAMETERS, "step"):
                continue
            v = columns[name]
            v = np.log(v) if VARIATIONS[name][0] == "log-uniform" else v
            others.append(v)
            terms += [v, v**2, v * lr]
        if "step" in self.metadata_columns:
            s = np.log(columns["step"])
            terms += [s, s**2, s * lr, s * bs, *(s * v for v in others)]
        return np.stack(terms, axis=1).astype(np.float32)

    def _cnn_features(self, columns) -> np.ndarray:
        """A Small CNN Zoo's hyperparameters: with ``l = log lr``, ``[l, l², l³]``, then
        ``[v, v², v l]`` for each other numeric one (``log`` of ``l2reg`` and
        ``init_std``, which the zoo draws log-uniformly), then each categorical one
        one-hot, and its one-hot times ``l``."""
        lr = np.log(columns["learning_rate"])
        terms = [lr, lr**2, lr**3]
        for name in NUMERIC_HYPERPARAMETERS[1:]:
            v = columns[name]
            v = np.log(np.maximum(v, 1e-12)) if name in ("l2reg", "init_std") else v
            terms += [v, v**2, v * lr]
        for name in CATEGORICAL_HYPERPARAMETERS:
            codes = columns[name].astype(np.int64)
            for code in range(self._categories[name]):
                hot = (codes == code).astype(np.float64)
                terms += [hot, hot * lr]
        return np.stack(terms, axis=1).astype(np.float32)

    def module(self, spec: Any) -> nn.Module:
        return MLP((64, 64))


class TrainLoss(Predictor):
    """The final train loss stored in the zoo (a training-time signal), monotone."""

    name = "train-loss"
    display_name = "Final train loss (training-time signal)"
    reads = "metadata"
    metadata_columns = ("train_loss",)
    cache_features = True
    standardize_features = True

    def features(self, columns, spec: Any) -> np.ndarray:
        return np.log(np.maximum(columns["train_loss"], 1e-12))[:, None].astype(np.float32)

    def module(self, spec: Any) -> nn.Module:
        return monotone_head()


class ProbeOracle(Predictor):
    """Accuracy of each network on ``num_problems`` fresh training-distribution problems."""

    name = "probe-oracle"
    display_name = "Network on fresh problems (probe oracle)"
    reads = "function"
    cache_features = True
    standardize_features = True
    num_problems: int = 100
    #: mixed with the zoo seed to draw the problems (never the test set's draw)
    problem_seed: int = 0x0AC1E

    def __init__(self, num_problems: int | None = None) -> None:
        if num_problems is not None:
            if num_problems < 1:
                raise ValueError(f"num_problems {num_problems}: need at least 1")
            self.num_problems = num_problems
        self._accuracy = None

    def bind(self, config: ZooConfig | CNNZooConfig) -> None:
        if isinstance(config, CNNZooConfig):
            raise TinyZooError(f"{self.name}: runs each network on fresh data of its task; "
                               "the Small CNN Zoo publishes no images, so it does not "
                               "apply to this zoo")
        _, pool = problem_sets(config)
        rng = np.random.default_rng([config.seed, self.problem_seed])
        pick = rng.integers(0, len(pool), self.num_problems)
        question = jnp.asarray(pool.question[pick], jnp.int32)
        answer = jnp.asarray(pool.answer[pick], jnp.int32)
        model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)

        def accuracy(params):  # one model's params -> its accuracy on the problems
            return jnp.mean(greedy_success(model, params, question, answer))

        self._accuracy = jax.jit(jax.vmap(accuracy))

    def features(self, params: dict, spec: Any) -> np.ndarray:
        if self._accuracy is None:
            raise RuntimeError("ProbeOracle.bind(config) must be called first")
        weights = jax.tree_util.tree_map(lambda x: jnp.asarray(x[..., 0]), params)
        return np.asarray(self._accuracy(weights), np.float32)[:, None]

    def module(self, spec: Any) -> nn.Module:
        return monotone_head()
