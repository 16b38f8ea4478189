"""ProbeGen: learned probe inputs run through each model, the outputs into an MLP.

The idea is that of probe-generator methods for weight-space learning (Kahana et al.,
"Deep Linear Probe Generators for Weight Space Learning", ICLR 2025, and the probing
line of work before it): instead of reading a network's weights, feed it a few learned
inputs and read its outputs. This implementation is our own, for the zoo's seq2seq GRU
and for the Small CNN Zoo's CNNs (:class:`CNNProbeGenNet`: learned probe images, as
Kahana et al. probe CNNs).

Shapes, for ``B`` models, ``K`` probes, question length ``T_q``, answer length ``T_a``,
vocabulary ``V``:

- probes: ``K`` trainable questions of logits ``(K, T_q, V)``; each character is
  ``softmax`` of its logits, a soft one-hot input;
- each model (its archived weights, :class:`zoo_data.rnn.model.Seq2Seq`) encodes every probe
  and decodes ``T_a`` steps from ``=``, each step's input the ``softmax`` of the previous
  step's logits (a differentiable greedy decoding), giving ``(B, K, T_a, V)`` output
  probabilities;
- features: those probabilities, flattened to ``(B, K T_a V)``, into an MLP (two hidden
  layers of 256) -> ``(B,)`` logits.

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
from zoo_data.cnn.config import CNNZooConfig
from zoo_data.cnn.model import activation_fn, cnn_logits
from zoo_data.rnn.model import Seq2Seq
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.task import EQUALS, VOCAB_SIZE

__all__ = ["ProbeGenNet", "CNNProbeGenNet", "ProbeGen"]


class ProbeGenNet(nn.Module):
    """Weights ``(B, *shape, 1)`` per tensor -> ``(B,)`` logits (module docstring)."""

    hidden: int
    question_length: int
    answer_length: int
    num_probes: int = 32
    head: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, params: Any) -> jnp.ndarray:
        vocab = VOCAB_SIZE
        probes = self.param("probes", nn.initializers.normal(1.0),
                            (self.num_probes, self.question_length, vocab))
        questions = jax.nn.softmax(probes, axis=-1)  # (K, T_q, V)
        model = Seq2Seq(hidden=self.hidden, vocab=vocab)
        start = jax.nn.one_hot(jnp.full((self.num_probes,), EQUALS), vocab)

        def respond(weights):  # one model -> (K, T_a, V) output probabilities
            variables = {"params": weights}
            carry = model.apply(variables, questions, method=Seq2Seq.encode)
            x, outputs = start, []
            for _ in range(self.answer_length):
                carry, logits = model.apply(variables, carry, x,
                                            method=lambda m, c, x: m.decoder(c, x))
                x = jax.nn.softmax(logits, axis=-1)
                outputs.append(x)
            return jnp.stack(outputs, axis=1)

        weights = jax.tree_util.tree_map(lambda w: w[..., 0], params)
        responses = jax.vmap(respond)(weights)  # (B, K, T_a, V)
        return MLP(tuple(self.head), name="head")(responses.reshape(responses.shape[0], -1))


class CNNProbeGenNet(nn.Module):
    """The Small CNN Zoo's networks on ``K`` learned probe images: features
    ``{"params": (B, *shape, 1) per tensor, "activation": (B,) codes}`` -> ``(B,)``
    logits. Probes ``(K, S, S, 1)`` (``S`` the dataset's image side) go through each
    network (:func:`zoo_data.cnn.model.cnn_logits`, with the network's own activation,
    ``activations[code]``); the ``(B, K, 10)`` softmax outputs, flattened, into an MLP."""

    image_size: int
    activations: tuple[str, ...]
    num_probes: int = 32
    head: Sequence[int] = (256, 256)

    @nn.compact
    def __call__(self, inputs: dict) -> jnp.ndarray:
        probes = self.param("probes", nn.initializers.normal(1.0),
                            (self.num_probes, self.image_size, self.image_size, 1))
        weights = jax.tree_util.tree_map(lambda w: w[..., 0], inputs["params"])
        codes = jnp.asarray(inputs["activation"]).astype(jnp.int32)  # (B,)

        def respond(params):  # one network -> (A, K, 10) under each activation
            return jnp.stack([jax.nn.softmax(cnn_logits(params, probes, name), axis=-1)
                              for name in self.activations])

        outputs = jax.vmap(respond)(weights)  # (B, A, K, 10)
        chosen = jnp.take_along_axis(outputs, codes[:, None, None, None], axis=1)[:, 0]
        return MLP(tuple(self.head), name="head")(chosen.reshape(chosen.shape[0], -1))


class ProbeGen(Predictor):
    """32 learned probe questions (or images) through each model, its answers into an
    MLP."""

    name = "probegen"
    display_name = "ProbeGen (learned probes)"
    num_probes: int = 32

    def __init__(self) -> None:
        self._config: ZooConfig | CNNZooConfig | None = None

    def bind(self, config: ZooConfig | CNNZooConfig) -> None:
        self._config = config
        self.metadata_columns = ()
        if isinstance(config, CNNZooConfig):  # a CNN's function depends on its activation
            self.metadata_columns = ("activation",)
            for name in dict(config.categories)["activation"]:
                activation_fn(name)  # refuse an activation the model does not know

    def features(self, inputs: Any, spec: Any) -> Any:
        """The weights (Tiny RNN Zoo); for a CNN zoo, whose inputs are ``(weights,
        Columns)``, ``{"params": weights, "activation": (B,) codes}``."""
        if isinstance(inputs, tuple):
            params, columns = inputs
            return {"params": params,
                    "activation": np.asarray(columns["activation"], np.float32)}
        return inputs

    def module(self, spec: Any) -> nn.Module:
        if self._config is None:
            raise RuntimeError("ProbeGen.bind(config) must be called first")
        c = self._config
        if isinstance(c, CNNZooConfig):
            return CNNProbeGenNet(image_size=28 if c.dataset in ("mnist", "fashion_mnist")
                                  else 32, activations=dict(c.categories)["activation"],
                                  num_probes=self.num_probes)
        return ProbeGenNet(hidden=c.hidden, question_length=2 * c.max_digits + 2,
                           answer_length=c.max_digits + 2, num_probes=self.num_probes)
