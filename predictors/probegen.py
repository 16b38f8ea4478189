"""ProbeGen: learned probe inputs run through each model, the outputs into an MLP.

The idea is that of probe-generator methods for weight-space learning (Kahana et al.,
"Deep Linear Probe Generators for Weight Space Learning", ICLR 2025, and the probing
line of work before it): instead of reading a network's weights, feed it a few learned
inputs and read its outputs. This implementation is our own and family-neutral: the
zoo's family says how to run one of its networks on probes
(:meth:`zoo_data.families.base.ZooFamily.probe_network`): a Tiny RNN Zoo's GRU on soft
probe questions and decoder inputs, read with teacher forcing as in training
(:func:`zoo_data.rnn.probes.probe_network`); a Small CNN Zoo's CNN on probe images,
under its own activation (:func:`zoo_data.cnn.features.probe_network`), as Kahana et
al. probe CNNs. With ``learn_probes = False`` the probes stay at their start (the
ablation that says what learning them is worth; :class:`~predictors.probing.Probing`
reads fixed problems with greedy correctness as well).

Shapes, for ``B`` models and ``K`` probes:

- probes: ``K`` trainable inputs ``(K, *probe_shape)`` (parameter ``"probes"``): a
  GRU's question and decoder-input logits ``(K, T_q + T_a, V)``, starting from ``K``
  real problems of the zoo's training pool (each token at logit 5; never the test
  set; :func:`zoo_data.rnn.probes.probe_network`), a CNN's images ``(K, S, S, 1)``,
  starting at ``normal(1.0)`` (the family gives no real images);
- each model (its archived weights) responds to every probe, ``(B, K, ...)`` (a GRU's
  teacher-forced output log-probabilities ``(B, K, T_a, V)``, a CNN's ``(B, K, 10)``);
- features: those responses, flattened, into an MLP (two hidden layers of 256) ->
  ``(B,)`` logits.

The weights enter only through the network's function, so the prediction is invariant
to any permutation of the hidden units by construction (the symmetry audit shows it to
float rounding). Probes and head are trained together under the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from predictors.base import Predictor
from predictors.mlp import MLP
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ProbeNetwork, ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["ProbeGenNet", "ProbeGen"]


class ProbeGenNet(nn.Module):
    """Features -> ``(B,)`` logits (module docstring). Features: the weights,
    ``(B, *shape, 1)`` per tensor; for a network with ``network.network_columns``,
    ``{"params": weights, "columns": {name: (B,) float32}}``."""

    network: ProbeNetwork
    num_probes: int = 32
    head: Sequence[int] = (256, 256)
    #: seed of the real inputs the probes start from (``network.initial_probes``)
    probe_seed: int = 0x9B0BE
    #: ``False``: the probes stay where they start (an ablation: learned vs fixed)
    learn_probes: bool = True

    def _initial(self, key: jax.Array, shape: tuple[int, ...]) -> jnp.ndarray:
        if self.network.initial_probes is None:
            return nn.initializers.normal(1.0)(key, shape)
        return jnp.asarray(self.network.initial_probes(self.num_probes, self.probe_seed),
                           jnp.float32).reshape(shape)

    @nn.compact
    def __call__(self, inputs: Any) -> jnp.ndarray:
        probes = self.param("probes", self._initial,
                            (self.num_probes, *self.network.probe_shape))
        if not self.learn_probes:
            probes = jax.lax.stop_gradient(probes)
        if self.network.network_columns:
            params, columns = inputs["params"], inputs["columns"]
        else:
            params, columns = inputs, {}
        weights = jax.tree_util.tree_map(lambda w: w[..., 0], params)
        responses = jax.vmap(self.network.respond, in_axes=(0, None, 0))(
            weights, probes, columns)  # (B, K, ...)
        return MLP(tuple(self.head), name="head")(responses.reshape(responses.shape[0], -1))


class ProbeGen(Predictor):
    """32 learned probe inputs through each model, its responses into an MLP."""

    name = "probegen"
    display_name = "ProbeGen (learned probes)"
    num_probes: int = 32
    learn_probes: bool = True

    def __init__(self) -> None:
        self._network: ProbeNetwork | None = None

    def bind(self, config: ZooConfigLike) -> None:
        """Ask the zoo's family how to run its networks; declare the metadata columns
        they need besides their weights (a CNN's activation).

        Raises:
          TinyZooError: one line, if the family knows no way to run its networks."""
        family = family_of(config)
        network = family.probe_network(config)
        if network is None:
            raise TinyZooError(f"{self.name}: runs each network on learned probes; the "
                               f"{family.title} has no runnable network, so it does not "
                               "apply to this zoo")
        self._network = network
        self.metadata_columns = tuple(network.network_columns)

    def features(self, inputs: Any, spec: Any) -> Any:
        """The weights; for a network defined also by metadata columns, whose inputs are
        ``(weights, Columns)``, ``{"params": weights, "columns": {name: (B,) float32}}``."""
        if isinstance(inputs, tuple):
            params, columns = inputs
            return {"params": params,
                    "columns": {name: np.asarray(columns[name], np.float32)
                                for name in self.metadata_columns}}
        return inputs

    def module(self, spec: Any) -> nn.Module:
        if self._network is None:
            raise RuntimeError("ProbeGen.bind(config) must be called first")
        return ProbeGenNet(self._network, num_probes=self.num_probes,
                           learn_probes=self.learn_probes)
