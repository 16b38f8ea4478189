"""Reference rows: what a zoo's success rates give away without reading the weights.

A weight-space method is worth what it gains over these; every board shows them.

- :class:`HParams` (reads metadata): the hyperparameters the zoo's family records per
  model, as its family encodes them
  (:meth:`zoo_data.families.base.ZooFamily.hyperparameters`). A Tiny RNN Zoo's: every
  hyperparameter it samples per model and, with checkpoints, the row's ``step`` as
  polynomial features (:func:`zoo_data.rnn.hparams.hyperparameter_features`); a Small
  CNN Zoo's: its numeric ones and its categorical ones one-hot
  (:func:`zoo_data.cnn.features.hyperparameter_features`). Everything the zoo's design
  sets, nothing training produced; standardised with the train split's statistics, into
  an MLP of two hidden layers of 64: it contains the least-squares fit of SR on these
  terms as a special case.
- :class:`TrainLoss` (reads metadata): the final train loss the zoo stores, a
  training-time signal, not a weight-space one. Feature ``log(train loss)``,
  standardised, into :func:`monotone_head`: a monotone map, so it ranks by the loss
  itself, in the direction the train split says.
- :class:`ProbeOracle` (reads the function): each model, from its archived weights, run
  on ``K`` fresh problems drawn from the zoo's training distribution (never the
  held-out test problems that define SR; the family's
  :meth:`~zoo_data.families.base.ZooFamily.fresh_problem_accuracy`: a Tiny RNN Zoo's
  GRU decoded greedily on problems of its training pool), its accuracy on them into
  :func:`monotone_head`: how far weight-space methods are from simply evaluating the
  network.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from predictors.base import Predictor
from predictors.mlp import MLP
from zoo_data.errors import TinyZooError
from zoo_data.families.base import HyperparameterEncoding, ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["HParams", "TrainLoss", "ProbeOracle", "monotone_head"]


def monotone_head() -> nn.Module:
    """``Dense(1)`` on one standardised feature with its weight initialised at 0: the
    first gradient step sets the weight's sign to that of the feature's covariance with
    SR on the train split, so the ranking's direction is learned from the data, never
    left to the initialisation (a random initial weight of the wrong sign would not
    flip within the protocol's few hundred steps at learning rate 1e-3)."""
    return nn.Dense(1, kernel_init=nn.initializers.zeros_init())


class HParams(Predictor):
    """The hyperparameters the zoo records, as its family encodes them, into a small MLP
    (module docstring). Its ``metadata_columns`` are set by :meth:`bind`."""

    name = "hparams"
    display_name = "Hyperparameters only"
    reads = "metadata"
    cache_features = True
    standardize_features = True

    def __init__(self) -> None:
        self._encoding: HyperparameterEncoding | None = None

    def bind(self, config: ZooConfigLike) -> None:
        """Read the columns of the family's encoding.

        Raises:
          TinyZooError: one line, if the family records no hyperparameters."""
        family = family_of(config)
        encoding = family.hyperparameters(config)
        if encoding is None:
            raise TinyZooError(f"{self.name}: reads the hyperparameters a zoo records; the "
                               f"{family.title} records none, so it does not apply to "
                               "this zoo")
        self._encoding = encoding
        self.metadata_columns = tuple(encoding.columns)

    def features(self, columns, spec: Any) -> np.ndarray:
        """``(B, F)`` float32: the family's encoding of the declared columns."""
        if self._encoding is None:
            raise RuntimeError("HParams.bind(config) must be called first")
        return self._encoding.encode(columns)

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

    def bind(self, config: ZooConfigLike) -> None:
        """The family's accuracy on ``num_problems`` fresh problems, drawn with
        :attr:`problem_seed`, vectorised over models.

        Raises:
          TinyZooError: one line, if the family publishes no data to run its networks
            on."""
        family = family_of(config)
        accuracy = family.fresh_problem_accuracy(config, self.num_problems, self.problem_seed)
        if accuracy is None:
            raise TinyZooError(f"{self.name}: runs each network on fresh data of its task; "
                               f"{family.no_fresh_problems_reason()}, so it does not "
                               "apply to this zoo")
        self._accuracy = jax.jit(jax.vmap(accuracy))

    def features(self, params: dict, spec: Any) -> np.ndarray:
        if self._accuracy is None:
            raise RuntimeError("ProbeOracle.bind(config) must be called first")
        weights = jax.tree_util.tree_map(lambda x: jnp.asarray(x[..., 0]), params)
        return np.asarray(self._accuracy(weights), np.float32)[:, None]

    def module(self, spec: Any) -> nn.Module:
        return monotone_head()
