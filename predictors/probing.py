"""Probing: each network run on fixed real problems, its responses into an MLP.

The vanilla probing baseline of the probing literature (Kahana et al., ICLR 2025, find
it surprisingly strong; Herrmann et al., ICML 2024, find functional readings superior on
recurrent networks), made to read the task the zoo was trained on. For a Tiny RNN Zoo
(the family's :meth:`~zoo_data.families.base.ZooFamily.fresh_problem_responses`,
:func:`zoo_data.rnn.probes.fresh_problem_responses`), each model, from its archived
weights, is run on ``K`` = :attr:`Probing.num_problems` (256, or the whole pool if it is
smaller) distinct problems drawn once from the zoo's **training pool** (never the
held-out test problems that define SR; the same problems for every network):

- ``K T_a`` features: the teacher-forced log-probability of each correct answer token
  (the decoder fed ``"="`` and the true answer so far; 0 past ``<EOS>``);
- ``K`` features: whether the greedy completion is exactly right (what SR counts).

Shapes: weights ``(B, *shape, 1)`` per tensor -> features ``(B, K (T_a + 1))``,
computed once per split and standardised with the train split's statistics, -> an MLP
of two hidden layers of 256 -> ``(B,)`` logits. Nothing is learned about the probes:
learned probes are :class:`~predictors.probegen.ProbeGen`'s.

The weights enter only through the network's function, so the prediction is invariant
to every permutation of the hidden units (the symmetry audit shows it to float
rounding).

Cost per prediction, in network evaluations: ``K`` problems, each ``T_q`` encoder steps
then ``T_a`` teacher-forced and ``T_a`` greedy decoder steps.
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
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["Probing"]


class Probing(Predictor):
    """``num_problems`` fixed training-pool problems through each network (module
    docstring): teacher-forced answer log-probabilities and greedy correctness, into an
    MLP."""

    name = "probing"
    display_name = "Probing (fixed real problems)"
    reads = "function"
    cache_features = True
    standardize_features = True
    num_problems: int = 256
    #: mixed with the zoo seed to draw the problems (not the probe oracle's draw)
    problem_seed: int = 0x9B0BE
    hidden: tuple[int, ...] = (256, 256)

    def __init__(self, num_problems: int | None = None) -> None:
        if num_problems is not None:
            if num_problems < 1:
                raise ValueError(f"num_problems {num_problems}: need at least 1")
            self.num_problems = num_problems
        self._responses = None

    def bind(self, config: ZooConfigLike) -> None:
        """The family's responses to :attr:`num_problems` fixed problems, vectorised over
        models.

        Raises:
          TinyZooError: one line, if the family publishes no data to run its networks
            on."""
        family = family_of(config)
        responses = family.fresh_problem_responses(config, self.num_problems,
                                                   self.problem_seed)
        if responses is None:
            raise TinyZooError(f"{self.name}: runs each network on problems of its task; "
                               f"{family.no_fresh_problems_reason()}, so it does not "
                               "apply to this zoo")
        self._responses = jax.jit(jax.vmap(responses))

    def features(self, params: dict, spec: Any) -> np.ndarray:
        """``(B, F)`` float32 responses (module docstring)."""
        if self._responses is None:
            raise RuntimeError("Probing.bind(config) must be called first")
        weights = jax.tree_util.tree_map(lambda x: jnp.asarray(x[..., 0]), params)
        return np.asarray(self._responses(weights), np.float32)

    def module(self, spec: Any) -> nn.Module:
        return MLP(tuple(self.hidden))
