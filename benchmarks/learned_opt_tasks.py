"""The four weight spaces of the paper's learned-optimizer experiments (appendix B.1).

Each task is a real haiku model (the paper's tasks are haiku models) plus the
permutation spec the paper's code writes for it, with its integer labels:

- ``mlp``: FashionMNIST 8x8 flattened, ``64 -> 32 -> 10`` (``mlp/~/linear_{0,1}``);
- ``cnn``: CIFAR-10 16x16, two 3x3 convolutions (16, 32 channels), global average
  pooling and a linear head (``conv2_d``, ``conv2_d_1``, ``linear``);
- ``rnn``: LM1B bytes, embedding 32, an identity-initialised RNN with 64 hidden units
  and a learned initial state, a linear readout (``embed``, ``irnn/linear``,
  ``irnn/linear_1``, ``linear``, ``~/initial_state_0``);
- ``transformer``: LM1B tokens, two blocks of width 32 with four heads, MLP width 128
  (``transformer/...``).

Only parameter *shapes* are needed to size an equivariant layer, so
:func:`task_params` uses ``jax.eval_shape`` and never allocates the (large) vocabulary
tensors.

Two facts of the paper's specs matter for Table 3's counts and are kept verbatim:
every axis is permutable, vocabulary axes included (Example 2.3); and the first
convolution's first spatial axis is labelled ``-0``, which *is* ``0``, the label of the
image channels, so those two axes share one permutation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import haiku as hk
import jax
import jax.numpy as jnp

__all__ = ["Task", "TASKS", "task_params"]


@dataclass(frozen=True)
class Task:
    """A learned-optimizer task: its name, haiku forward function, input and spec."""

    name: str
    title: str
    forward: Callable[[jnp.ndarray], jnp.ndarray]
    example_input: jax.ShapeDtypeStruct
    spec: dict


def _mlp(x):
    return hk.nets.MLP([32, 10], name="mlp")(x)


def _mlp_spec() -> dict:
    return {f"mlp/~/linear_{i}": {"w": (i, i + 1), "b": (i + 1,)} for i in range(2)}


def _cnn(x):
    x = jax.nn.relu(hk.Conv2D(16, 3, name="conv2_d")(x))
    x = jax.nn.relu(hk.Conv2D(32, 3, name="conv2_d_1")(x))
    return hk.Linear(10, name="linear")(jnp.mean(x, axis=(1, 2)))


def _cnn_spec() -> dict:
    n = 3  # number of parameterised layers
    spec = {}
    for i, name in enumerate(("conv2_d", "conv2_d_1")):
        spec[name] = {"w": (-i, -(n + i), i, i + 1), "b": (i + 1,)}
    spec["linear"] = {"w": (2, 3), "b": (3,)}
    return spec


class _IRNN(hk.Module):
    """Elman RNN ``h_t = relu(W_x x_t + W_h h_{t-1} + b)`` with ``W_h`` initialised to I."""

    def __init__(self, hidden: int, name: str = "irnn"):
        super().__init__(name=name)
        self.hidden = hidden

    def __call__(self, xs: jnp.ndarray, h0: jnp.ndarray) -> jnp.ndarray:
        inp = hk.Linear(self.hidden, name="linear")
        rec = hk.Linear(self.hidden, name="linear_1", w_init=hk.initializers.Identity())
        h, outs = h0, []
        for t in range(xs.shape[1]):
            h = jax.nn.relu(inp(xs[:, t]) + rec(h))
            outs.append(h)
        return jnp.stack(outs, axis=1)


def _rnn(tokens):
    emb = hk.Embed(vocab_size=256, embed_dim=32, name="embed")(tokens)
    h0 = hk.get_parameter("initial_state_0", (1, 64), init=jnp.zeros)
    hs = _IRNN(64)(emb, jnp.broadcast_to(h0, (tokens.shape[0], 64)))
    return hk.Linear(256, name="linear")(hs)


def _rnn_spec() -> dict:
    return {
        "embed": {"embeddings": (-1, 0)},
        "irnn/linear": {"b": (1,), "w": (0, 1)},
        "irnn/linear_1": {"b": (1,), "w": (1, 1)},
        "linear": {"b": (-1,), "w": (1, -1)},
        "~": {"initial_state_0": (-2, 1)},
    }


class _TransformerLM(hk.Module):
    """Pre-LN decoder-only Transformer language model."""

    def __init__(self, vocab: int, dim: int, heads: int, layers: int, name="transformer"):
        super().__init__(name=name)
        self.vocab, self.dim, self.heads, self.layers = vocab, dim, heads, layers

    def __call__(self, tokens: jnp.ndarray) -> jnp.ndarray:
        x = hk.Embed(self.vocab, self.dim, name="embed")(tokens)
        causal = jnp.tril(jnp.ones((tokens.shape[1], tokens.shape[1])))
        init = hk.initializers.VarianceScaling(1.0)
        for i in range(self.layers):
            ln = hk.LayerNorm(-1, True, True, name=f"h{i}_ln_1")
            attn = hk.MultiHeadAttention(
                self.heads, self.dim, w_init=init, model_size=self.dim, name=f"h{i}_attn"
            )
            y = ln(x)
            x = x + attn(y, y, y, mask=causal[None, None])
            y = hk.LayerNorm(-1, True, True, name=f"h{i}_ln_2")(x)
            mlp = hk.nets.MLP([4 * self.dim, self.dim], activation=jax.nn.gelu, name=f"h{i}_mlp")
            x = x + mlp(y)
        x = hk.LayerNorm(-1, True, True, name="h_f")(x)
        return hk.Linear(self.vocab, name="linear")(x)


def transformer_spec(layers: int = 2) -> dict:
    """Spec of :class:`_TransformerLM` as the paper writes it: block ``i`` reads width
    label ``2i``, its attention and MLP hidden axes share label ``2i+1``; vocabulary
    axes are ``-1`` (embedding) and ``-2`` (readout)."""
    spec: dict = {"transformer/embed": {"embeddings": (-1, 0)}}
    for i in range(layers):
        d, h, nxt = 2 * i, 2 * i + 1, 2 * i + 2
        pre = f"transformer/h{i}"
        for proj in ("key", "query", "value"):
            spec[f"{pre}_attn/{proj}"] = {"b": (h,), "w": (d, h)}
        spec[f"{pre}_attn/linear"] = {"b": (d,), "w": (h, d)}
        for ln in ("ln_1", "ln_2"):
            spec[f"{pre}_{ln}"] = {"offset": (d,), "scale": (d,)}
        spec[f"{pre}_mlp/~/linear_0"] = {"b": (h,), "w": (d, h)}
        spec[f"{pre}_mlp/~/linear_1"] = {"b": (nxt,), "w": (h, nxt)}
    spec["transformer/h_f"] = {"offset": (2 * layers,), "scale": (2 * layers,)}
    spec["transformer/linear"] = {"b": (-2,), "w": (2 * layers, -2)}
    return spec


def make_transformer_task(vocab: int, dim: int, heads: int, seq: int = 8) -> Task:
    """A Transformer LM task of any size (the paper's: vocab 32,100, width 32, 4 heads).

    Haiku's ``MultiHeadAttention`` with ``key_size = dim`` has an attention width of
    ``heads * dim``, equal to the MLP width ``4 * dim`` when ``heads == 4``; the spec
    gives both one label, so it needs ``heads == 4``.
    """
    if heads != 4:
        raise ValueError(f"transformer task: heads must be 4 (attention width 4*dim), got {heads}")
    return Task(
        name="transformer",
        title="Transformer on LM1B",
        forward=lambda t: _TransformerLM(vocab, dim, heads, layers=2)(t),
        example_input=jax.ShapeDtypeStruct((8, seq), jnp.int32),
        spec=transformer_spec(2),
    )


TASKS: dict[str, Task] = {
    "mlp": Task(
        "mlp",
        "MLP on FashionMNIST",
        _mlp,
        jax.ShapeDtypeStruct((128, 64), jnp.float32),
        _mlp_spec(),
    ),
    "cnn": Task(
        "cnn",
        "CNN on CIFAR-10",
        _cnn,
        jax.ShapeDtypeStruct((128, 16, 16, 3), jnp.float32),
        _cnn_spec(),
    ),
    "rnn": Task("rnn", "RNN on LM1B", _rnn, jax.ShapeDtypeStruct((64, 16), jnp.int32), _rnn_spec()),
    "transformer": make_transformer_task(vocab=32100, dim=32, heads=4),
}


def task_params(task: Task, concrete: bool = False, seed: int = 0) -> Any:
    """The task's haiku parameters: shapes only (default) or real initial values."""
    model = hk.transform(task.forward)
    key = jax.random.PRNGKey(seed)
    dummy = jnp.zeros(task.example_input.shape, task.example_input.dtype)
    if concrete:
        return model.init(key, dummy)
    return jax.eval_shape(model.init, key, dummy)
