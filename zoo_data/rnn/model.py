"""The zoo's model: a seq2seq GRU (one encoder cell, one decoder cell, a dense readout).

Inputs are one-hot characters (no embedding layer). Shapes, with ``V`` the vocabulary
size and ``H`` the hidden size:

- encoder: ``h_t = GRU(h_{t-1}, x_t)`` over the question ``x`` of shape ``(B, T_q, V)``;
- decoder: starting from the encoder's last state, ``s_t = GRU'(s_{t-1}, y_{t-1})`` and
  ``logits_t = W s_t + b`` with ``W: (H, V)``; ``y_{t-1}`` is the previous target
  character in training (teacher forcing) and the previous greedy prediction at test.

Parameter names follow flax's ``GRUCell`` and the paper's code, 22 tensors in all:
``GRUCell_0/{ir,iz,in}/{kernel,bias}``, ``GRUCell_0/{hr,hz}/kernel``,
``GRUCell_0/hn/{kernel,bias}``, the same under ``DecoderGRUCell_0/GRUCell_0/``, and
``DecoderGRUCell_0/Dense_0/{kernel,bias}``.

:func:`greedy_success` is the label's definition: a problem is solved iff the greedy
completion equals the answer followed by ``<EOS>`` exactly.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo_data.rnn.task import EQUALS, PAD, VOCAB_SIZE

__all__ = ["DecoderGRUCell", "Seq2Seq", "init_params", "answer_mask", "greedy_success"]


class DecoderGRUCell(nn.Module):
    """One decoder step: ``(carry (B, H), input (B, V)) -> (carry, logits (B, V))``."""

    hidden: int
    vocab: int

    @nn.compact
    def __call__(self, carry: jnp.ndarray, x: jnp.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
        carry, h = nn.GRUCell(self.hidden)(carry, x)
        return carry, nn.Dense(self.vocab)(h)


class Seq2Seq(nn.Module):
    """Encoder GRU cell + decoder GRU cell + dense readout, scanned over time."""

    hidden: int
    vocab: int

    def setup(self) -> None:
        self.encoder = nn.GRUCell(self.hidden, name="GRUCell_0")
        self.decoder = DecoderGRUCell(self.hidden, self.vocab, name="DecoderGRUCell_0")

    def encode(self, question: jnp.ndarray) -> jnp.ndarray:
        """``question (B, T_q, V) -> final encoder state (B, H)``."""
        carry = jnp.zeros((question.shape[0], self.hidden), question.dtype)
        for t in range(question.shape[1]):
            carry, _ = self.encoder(carry, question[:, t])
        return carry

    def __call__(self, question: jnp.ndarray, decoder_inputs: jnp.ndarray) -> jnp.ndarray:
        """Teacher-forced logits ``(B, T_a, V)`` from ``question (B, T_q, V)`` and the
        shifted targets ``decoder_inputs (B, T_a, V)``."""
        carry = self.encode(question)
        logits = []
        for t in range(decoder_inputs.shape[1]):
            carry, out = self.decoder(carry, decoder_inputs[:, t])
            logits.append(out)
        return jnp.stack(logits, axis=1)


def init_params(hidden: int, vocab: int, key: jax.Array, q_len: int = 3, a_len: int = 2):
    """Initial parameters ``{"params": {...}}`` of a :class:`Seq2Seq` (flax defaults)."""
    model = Seq2Seq(hidden=hidden, vocab=vocab)
    return model.init(key, jnp.zeros((1, q_len, vocab)), jnp.zeros((1, a_len, vocab)))


def answer_mask(answer: jnp.ndarray) -> jnp.ndarray:
    """1 for answer tokens up to and including the first ``<EOS>``, 0 for padding."""
    return (answer != PAD).astype(jnp.float32)


def greedy_success(model: Seq2Seq, params, question, answer) -> jnp.ndarray:
    """Per problem, 1.0 if the greedy completion equals the answer up to and including
    ``<EOS>``, else 0.0. ``question (N, T_q)``, ``answer (N, T_a)`` token ids -> ``(N,)``."""
    variables = {"params": params}
    q = jax.nn.one_hot(question, VOCAB_SIZE)
    carry = model.apply(variables, q, method=Seq2Seq.encode)
    token = jnp.full((question.shape[0],), EQUALS, jnp.int32)  # "=" starts decoding
    preds = []
    for _ in range(answer.shape[1]):
        x = jax.nn.one_hot(token, VOCAB_SIZE)
        carry, logits = model.apply(
            variables, carry, x, method=lambda m, c, x: m.decoder(c, x)
        )
        token = jnp.argmax(logits, axis=-1).astype(jnp.int32)
        preds.append(token)
    preds = jnp.stack(preds, axis=1)
    mask = answer_mask(answer) > 0
    ok = jnp.all(jnp.where(mask, preds == answer.astype(jnp.int32), True), axis=1)
    return ok.astype(jnp.float32)
