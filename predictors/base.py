"""The predictor interface: what a user implements (in one file) to enter the benchmark.

A predictor maps a batch of ``B`` models' weights to one logit per model; the
benchmark turns logits into predicted success rates with a sigmoid and trains them
with binary cross-entropy on the true success rates (:mod:`benchmarks.protocol`).

Subclass :class:`Predictor` and implement :meth:`Predictor.module`; optionally
override :meth:`Predictor.features`::

    import flax.linen as nn
    import jax
    import numpy as np
    from predictors.base import Predictor

    class TensorScales(Predictor):
        name = "tensor-scales"
        cache_features = True          # features are small: computed once per split
        standardize_features = True    # with the train split's mean and std

        def features(self, params, spec):
            # params: {path: (B, *shape, 1) float32 numpy} (flax "params" tree, nested)
            columns = []
            for w in jax.tree_util.tree_leaves(params):  # 22 tensors, sorted by path
                a = np.abs(w).reshape(len(w), -1)
                columns += [np.log(a.mean(axis=1) + 1e-12), np.log(a.max(axis=1) + 1e-12)]
            return np.stack(columns, axis=1)             # (B, 44)

        def module(self, spec):
            # (B, 44) -> (B, 1); zero weights: every seed starts from the same model
            return nn.Dense(1, kernel_init=nn.initializers.zeros)

    # tinyzoo bench predictors/examples/tensor_scales.py:TensorScales --zoo data/zoos/mini

Shapes: ``features`` receives the nested parameter dict of the zoo's model with leaves
``(B, *tensor_shape, 1)`` (numpy float32; the trailing axis is the channel axis of
:mod:`predictors.unf`) and the zoo's weight-space spec; it returns any pytree of
arrays with leading axis ``B``. ``module(spec)`` returns a flax module whose
``apply(variables, features)`` gives ``(B,)`` or ``(B, 1)`` logits.

What a predictor reads (``reads``, one of :data:`READS`) decides what ``features`` is
given; the protocol hands each predictor only what it declared:

- ``"weights"`` (the default): the parameter dict above. Weight-space methods.
- ``"metadata"``: a :class:`zoo_data.zoo.Columns` of the zoo's metadata columns named in
  ``metadata_columns`` (each ``(B,)`` float64; a column it did not declare is refused
  with one line), never the weights. Reference rows such as the hyperparameters.
- ``"function"``: the parameter dict, to run each network on problems of the zoo's task
  (:meth:`Predictor.bind` gives it the zoo's config). Reference rows that evaluate the
  network instead of reading its weights.

:meth:`Predictor.bind` is called once per run with the zoo's config before anything
else (by default it does nothing).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import flax.linen as nn

from zoo_data.families.base import ZooConfigLike

__all__ = ["READS", "Predictor"]

#: What a predictor may read: the weights, the zoo's metadata columns, or the network's
#: function on the zoo's task (see the module docstring).
READS = ("weights", "metadata", "function")


class Predictor(abc.ABC):
    """Base class of weight-space predictors (see the module docstring).

    Class attributes:
      name: the method's id in result files and on the leaderboard (a slug).
      display_name: how tables show it (defaults to ``name``).
      cache_features: features are small enough to compute once per split and keep in
        memory (then they must be one array ``(B, F)`` or a pytree of arrays); otherwise
        they are recomputed from the streamed weights for every batch.
      standardize_features: standardise array features with the train split's mean and
        standard deviation (requires ``cache_features`` and array features).
      reads: what ``features`` is given, one of :data:`READS`.
      metadata_columns: for ``reads = "metadata"``, the metadata columns it reads.
    """

    name: ClassVar[str] = "predictor"
    display_name: ClassVar[str | None] = None
    cache_features: ClassVar[bool] = False
    standardize_features: ClassVar[bool] = False
    reads: ClassVar[str] = "weights"
    metadata_columns: ClassVar[tuple[str, ...]] = ()

    def bind(self, config: ZooConfigLike) -> None:
        """Called once per run with the zoo's config, before :meth:`module` and
        :meth:`features`; by default it does nothing."""
        return None

    def features(self, params: dict, spec: Any) -> Any:
        """The model's input for a batch of weights; by default the weights themselves,
        ``(B, *tensor_shape, 1)`` per tensor."""
        return params

    @abc.abstractmethod
    def module(self, spec: Any) -> nn.Module:
        """The flax module: ``apply(variables, features) -> (B,) or (B, 1)`` logits."""

    @classmethod
    def title(cls) -> str:
        return cls.display_name or cls.name
