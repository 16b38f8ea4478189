"""Shared helpers for the predictor and UNF tests: random zoo weights, random features,
orbit counts."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from predictors.unf.spec import match_spec
from zoo_data.rnn.model import init_params
from zoo_data.rnn.task import VOCAB_SIZE

#: The hidden size of :func:`random_weights`' models.
H = 4


def random_weights(b: int, seed: int = 0) -> dict:
    """``b`` models' weights as the predictors get them: ``(b, *shape, 1)`` leaves."""
    keys = jax.random.split(jax.random.PRNGKey(seed), b)
    trees = [init_params(H, VOCAB_SIZE, k)["params"] for k in keys]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs)[..., None].astype(np.float32),
                                  *trees)


def random_features(rng: np.random.Generator, params, batch: int, channels: int):
    """Random ``(batch, *shape, channels)`` features for every tensor of ``params``."""
    return jax.tree_util.tree_map(
        lambda p: jnp.asarray(rng.normal(size=(batch, *p.shape, channels)), jnp.float32), params
    )


def count_orbits(spec, params, outputs=None, inputs=None) -> int:
    """Dimension of the space of equivariant linear maps on the weight space, computed
    independently of the basis: the number of orbits of the permutation group on pairs
    (output entry, input entry), found by union-find under the group's generators
    (a transposition and an n-cycle per label; ``None`` axes are not acted on).

    ``outputs``/``inputs`` restrict the pairs to those tensor paths (default: all)."""
    tensors = match_spec(spec, params)
    entries = [
        (ti, idx)
        for ti, t in enumerate(tensors)
        for idx in itertools.product(*[range(n) for n in t.shape])
    ]
    pos = {e: k for k, e in enumerate(entries)}
    n_entries = len(entries)
    out_ok = {ti for ti, t in enumerate(tensors) if outputs is None or t.path in outputs}
    in_ok = {ti for ti, t in enumerate(tensors) if inputs is None or t.path in inputs}
    sizes = {}
    for t in tensors:
        for lab, n in zip(t.labels, t.shape, strict=True):
            if lab is not None:
                sizes[lab] = n
    generators = []
    for lab, n in sizes.items():
        for perm in ([1, 0, *range(2, n)] if n > 1 else [0], [*range(1, n), 0]):
            generators.append((lab, perm))

    def act(entry, lab, perm):
        ti, idx = entry
        labels = tensors[ti].labels
        return ti, tuple(perm[v] if labels[a] == lab else v for a, v in enumerate(idx))

    parent = list(range(n_entries * n_entries))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for o in entries:
        for i in entries:
            here = pos[o] * n_entries + pos[i]
            for lab, perm in generators:
                there = pos[act(o, lab, perm)] * n_entries + pos[act(i, lab, perm)]
                a, b = find(here), find(there)
                if a != b:
                    parent[a] = b
    return len(
        {
            find(pos[o] * n_entries + pos[i])
            for o in entries
            for i in entries
            if o[0] in out_ok and i[0] in in_ok
        }
    )
