"""The seq2seq GRU's teacher-forced forward pass with a fused hidden kernel, for training.

The same function as :class:`zoo_data.rnn.model.Seq2Seq` (flax's ``GRUCell``), on the same
``params`` tree, arranged for speed. With ``x_t`` one-hot ``(B, V)`` and state ``h (B, H)``
a flax cell computes

    r = sigmoid(x W_ir + b_ir + h W_hr)
    z = sigmoid(x W_iz + b_iz + h W_hz)
    n = tanh(x W_in + b_in + r * (h W_hn + b_hn))
    h' = (1 - z) * n + z * h

with six matmuls per step. Here the three hidden kernels are concatenated once per call
into ``W_h = [W_hr | W_hz | W_hn] (H, 3H)``, so each step does one ``(B, H) @ (H, 3H)``
matmul for the recurrence (the three input matmuls stay as they are). The FLOPs are those
of the six-matmul form and every dot sums the same terms, so the result agrees with flax
to float rounding (tested).

Two other arrangements were measured and rejected (docs/BENCHMARKS.md): concatenating
the input kernels too, and computing every step's input projection in one matmul before
the recurrence; on XLA's CPU backend both made a training step slower, not faster.
Greedy decoding (evaluation) stays with flax.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["fused_logits"]


def _run_cell(cell: dict, h: jnp.ndarray, inputs: jnp.ndarray) -> tuple[jnp.ndarray, list]:
    """Run one flax ``GRUCell`` params dict over ``inputs (B, T, V)`` from state
    ``h (B, H)`` -> (last state, the ``T`` states, each ``(B, H)``)."""
    hidden = h.shape[-1]
    w_h = jnp.concatenate([cell[g]["kernel"] for g in ("hr", "hz", "hn")], axis=1)
    b_hn = cell["hn"]["bias"]
    states = []
    for t in range(inputs.shape[1]):
        x = inputs[:, t]
        xr, xz, xn = (x @ cell[g]["kernel"] + cell[g]["bias"] for g in ("ir", "iz", "in"))
        gh = h @ w_h
        hr, hz, hn = gh[:, :hidden], gh[:, hidden:2 * hidden], gh[:, 2 * hidden:]
        r = jax.nn.sigmoid(xr + hr)
        z = jax.nn.sigmoid(xz + hz)
        n = jnp.tanh(xn + r * (hn + b_hn))
        h = (1.0 - z) * n + z * h
        states.append(h)
    return h, states


def fused_logits(params: dict, question: jnp.ndarray, decoder_inputs: jnp.ndarray) -> jnp.ndarray:
    """Teacher-forced logits ``(B, T_a, V)`` from one-hot ``question (B, T_q, V)`` and
    ``decoder_inputs (B, T_a, V)``; ``params`` is a :class:`~zoo_data.rnn.model.Seq2Seq`
    ``params`` tree (flax or any dict of the same layout)."""
    encoder = params["GRUCell_0"]
    decoder = params["DecoderGRUCell_0"]
    hidden = encoder["hr"]["kernel"].shape[0]
    h0 = jnp.zeros((question.shape[0], hidden), question.dtype)
    h, _ = _run_cell(encoder, h0, question)
    _, states = _run_cell(decoder["GRUCell_0"], h, decoder_inputs)
    dense = decoder["Dense_0"]
    return jnp.stack([s @ dense["kernel"] + dense["bias"] for s in states], axis=1)
