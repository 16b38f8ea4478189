"""Real weight spaces for the UNF tests, by name: ``SPACES[name]()`` is ``(spec,
params)`` of a small flax MLP and CNN (spatial axes permutable or fixed), the seq2seq
GRU (vocabulary axes permutable or fixed) and a haiku Transformer."""

import copy
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from benchmarks.learned_opt_tasks import make_transformer_task, task_params
from zoo_data.rnn.model import init_params
from zoo_data.rnn.spec import seq2seq_spec


class _MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.relu(nn.Dense(5)(x))
        return nn.Dense(3)(h)


class _CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Conv(4, (3, 3))(x))
        x = nn.relu(nn.Conv(5, (2, 2))(x))
        return nn.Dense(3)(x.mean(axis=(1, 2)))


def _mlp_space():
    params = _MLP().init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))["params"]
    spec = {
        "Dense_0": {"kernel": ("x", "h1"), "bias": ("h1",)},
        "Dense_1": {"kernel": ("h1", "y"), "bias": ("y",)},
    }
    return spec, params


def _cnn_space(spatial_fixed: bool):
    params = _CNN().init(jax.random.PRNGKey(0), jnp.zeros((1, 6, 6, 2)))["params"]

    def s(name):
        return None if spatial_fixed else name

    spec = {
        "Conv_0": {"kernel": (s("k0"), s("k1"), "c0", "c1"), "bias": ("c1",)},
        "Conv_1": {"kernel": (s("k2"), s("k3"), "c1", "c2"), "bias": ("c2",)},
        "Dense_0": {"kernel": ("c2", "y"), "bias": ("y",)},
    }
    return spec, params


def _gru_space(vocab):
    params = init_params(hidden=5, vocab=4, key=jax.random.PRNGKey(0))["params"]
    return seq2seq_spec(vocab=vocab), params


def _transformer_space():
    task = make_transformer_task(vocab=6, dim=3, heads=4, seq=4)
    return task.spec, task_params(task, concrete=True)


def _made_once(make):
    """``make`` run once per process (the Transformer's takes ~2.5 s), handing every caller
    its own copy of the spec and of the params tree's containers (the arrays are
    immutable), so that no test sees another's changes."""
    made = functools.cache(make)

    def fresh():
        spec, params = made()
        return copy.deepcopy(spec), jax.tree_util.tree_map(lambda a: a, params)

    return fresh


SPACES = {
    name: _made_once(make)
    for name, make in {
        "mlp-flax": _mlp_space,
        "cnn2d-flax": lambda: _cnn_space(spatial_fixed=False),
        "cnn2d-flax-None-spatial": lambda: _cnn_space(spatial_fixed=True),
        "gru-seq2seq-flax": lambda: _gru_space("vocab"),
        "gru-seq2seq-flax-None-vocab": lambda: _gru_space(None),
        "transformer-haiku": _transformer_space,
    }.items()
}
