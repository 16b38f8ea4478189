"""What training minimises and how a model's labels are measured.

Shapes: ``B`` problems, ``T_q``/``T_a`` question/answer length, vocabulary ``V``.

- loss: mean over the ``B`` problems of the summed cross-entropy of the answer tokens up
  to and including ``<EOS>`` (teacher forcing);
- success: :func:`zoo_data.rnn.model.greedy_success` (the label's definition); the test
  success rate is the mean over the test problems;
- host reductions: the means are taken on the host in float64 from per-problem and
  per-token values, in a fixed order whatever program computed them.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from zoo_data.rnn.model import Seq2Seq, answer_mask
from zoo_data.rnn.task import VOCAB_SIZE

__all__ = [
    "token_losses",
    "sequence_loss",
    "host_sequence_loss",
    "host_success_rate",
    "flax_logits",
]


def token_losses(logits_fn: Callable, params, question, decoder_input,
                 answer) -> jnp.ndarray:
    """Per answer token, the cross-entropy under teacher forcing, 0 after ``<EOS>``.

    ``logits_fn(params, question_onehot, decoder_input_onehot) -> (B, T_a, V)`` is the
    model's forward pass (:func:`flax_logits`); inputs are token ids ``(B, T)``; returns
    ``(B, T_a)``."""
    q = jax.nn.one_hot(question, VOCAB_SIZE)
    d = jax.nn.one_hot(decoder_input, VOCAB_SIZE)
    logits = logits_fn(params, q, d)
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, answer.astype(jnp.int32))
    return ce * answer_mask(answer)


def sequence_loss(logits_fn: Callable, params, question, decoder_input, answer) -> jnp.ndarray:
    """Mean over problems of the summed token cross-entropy (:func:`token_losses`);
    a scalar."""
    return jnp.mean(jnp.sum(token_losses(logits_fn, params, question, decoder_input, answer),
                            axis=1))


def host_sequence_loss(token_ce: np.ndarray) -> np.ndarray:
    """:func:`sequence_loss` from per-token losses ``(..., B, T_a)``, reduced on the host
    in float64 (a fixed order, whatever program computed the tokens) -> ``(...)``
    float32."""
    return np.asarray(token_ce, np.float64).sum(-1).mean(-1).astype(np.float32)


def host_success_rate(success: np.ndarray) -> np.ndarray:
    """Mean of per-problem successes ``(..., N)`` -> ``(...)`` float32 (exact: k / N)."""
    return np.asarray(success, np.float64).mean(-1).astype(np.float32)


def flax_logits(model: Seq2Seq) -> Callable:
    """The teacher-forced forward pass of ``model`` through flax, as a ``logits_fn``."""
    return lambda params, q, d: model.apply({"params": params}, q, d)
