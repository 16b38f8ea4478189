"""UNF layers commute with neuron permutations on real weight spaces; pooling after a
stack is invariant; initialisation keeps activations at unit scale through depth."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from predictors.unf import UNF, UNFLayer, invariant_pool, permute, random_permutations
from tests.predictors.helpers import random_features
from tests.predictors.spaces import SPACES


def _max_err(a, b):
    return max(
        float(jnp.max(jnp.abs(x - y)))
        for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True)
    )


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("c_in,c_out", [(1, 1), (3, 2)])
def test_layer_is_equivariant(name, c_in, c_out):
    spec, params = SPACES[name]()
    rng = np.random.default_rng(abs(hash((name, c_in))) % 2**32)
    x = random_features(rng, params, batch=2, channels=c_in)
    layer = UNFLayer(spec, c_out)
    variables = jax.jit(layer.init)(jax.random.PRNGKey(1), x)
    variables = jax.tree_util.tree_map(lambda a: a + 0.05, variables)  # nonzero biases
    apply = jax.jit(layer.apply)
    y = apply(variables, x)
    assert jax.tree_util.tree_structure(y) == jax.tree_util.tree_structure(x)
    for leaf_x, leaf_y in zip(
        jax.tree_util.tree_leaves(x), jax.tree_util.tree_leaves(y), strict=True
    ):
        assert leaf_y.shape == (*leaf_x.shape[:-1], c_out)
    for _ in range(2):
        perms = random_permutations(rng, spec, x, leading=1, trailing=1)
        y_of_px = apply(variables, permute(x, spec, perms, leading=1, trailing=1))
        p_of_y = permute(y, spec, perms, leading=1, trailing=1)
        scale = max(float(jnp.max(jnp.abs(v))) for v in jax.tree_util.tree_leaves(y))
        assert _max_err(y_of_px, p_of_y) <= 1e-5 * max(scale, 1.0)


def test_a_permutation_that_breaks_the_spec_is_detected():
    """The equivariance check can fail: permuting the hidden axis of one tensor only
    (not a symmetry of the spec) changes the output by more than float noise."""
    spec, params = SPACES["mlp-flax"]()
    rng = np.random.default_rng(0)
    x = random_features(rng, params, batch=1, channels=2)
    layer = UNFLayer(spec, 2)
    variables = jax.jit(layer.init)(jax.random.PRNGKey(0), x)  # faster than op by op
    bad = dict(x)
    bad["Dense_0"] = dict(x["Dense_0"])
    bad["Dense_0"]["bias"] = x["Dense_0"]["bias"][:, ::-1]  # h1 permuted in the bias only
    apply = jax.jit(layer.apply)
    y = apply(variables, x)
    y_bad = apply(variables, bad)
    perms = {"x": np.arange(4), "h1": np.arange(5)[::-1], "y": np.arange(3)}
    assert _max_err(permute(y, spec, perms, 1, 1), y_bad) > 1e-3


@pytest.mark.parametrize(
    "name",
    [
        "gru-seq2seq-flax",
        # the transformer's 3-layer stack compiles for ~30 s: with the slow tests (its
        # single layers stay in CI through test_layer_is_equivariant)
        pytest.param("transformer-haiku", marks=pytest.mark.slow),
        "cnn2d-flax-None-spatial",
    ],
)
def test_stack_then_pool_is_invariant(name):
    spec, params = SPACES[name]()
    rng = np.random.default_rng(7)
    x = random_features(rng, params, batch=3, channels=1)
    model = UNF(spec, channels=(3, 3))
    variables = jax.jit(model.init)(jax.random.PRNGKey(0), x)

    @jax.jit
    def features(v):
        return invariant_pool(model.apply(variables, v), spec)

    out = features(x)
    n_tensors = len(jax.tree_util.tree_leaves(x))
    assert out.shape[0] == 3 and out.shape[1] >= 3 * n_tensors
    perms = random_permutations(rng, spec, x, 1, 1)
    np.testing.assert_allclose(features(permute(x, spec, perms, 1, 1)), out, atol=1e-5)


def test_initialisation_keeps_unit_scale_through_depth():
    spec, params = SPACES["gru-seq2seq-flax"]()
    rng = np.random.default_rng(0)
    x = random_features(rng, params, batch=4, channels=8)
    h = x
    rms = []
    for k in range(3):
        layer = UNFLayer(spec, 8)
        variables = jax.jit(layer.init)(jax.random.PRNGKey(k), h)
        h = jax.tree_util.tree_map(jax.nn.relu, jax.jit(layer.apply)(variables, h))
        leaves = jax.tree_util.tree_leaves(h)
        total = sum(float(jnp.sum(v**2)) for v in leaves)
        count = sum(v.size for v in leaves)
        rms.append((total / count) ** 0.5)
    assert all(0.3 < r < 3.0 for r in rms), rms


def test_haiku_and_flax_trees_give_the_same_layer_function():
    """The same weight space stored as a haiku dict and as a flax dict: same outputs."""
    spec_flax, params = SPACES["mlp-flax"]()
    to_hk = {"mlp/~/linear_0": "Dense_0", "mlp/~/linear_1": "Dense_1"}
    spec_hk = {
        k: {"w": spec_flax[v]["kernel"], "b": spec_flax[v]["bias"]} for k, v in to_hk.items()
    }
    x = random_features(np.random.default_rng(0), params, batch=2, channels=2)
    x_hk = {k: {"w": x[v]["kernel"], "b": x[v]["bias"]} for k, v in to_hk.items()}
    assert isinstance(hk.data_structures.to_haiku_dict(x_hk), dict)
    # Flattening order is the same (sorted keys, bias before kernel/w), so the same
    # parameters define the same map.
    layer_flax, layer_hk = UNFLayer(spec_flax, 3), UNFLayer(spec_hk, 3)
    variables = jax.jit(layer_flax.init)(jax.random.PRNGKey(0), x)  # faster than op by op
    y_flax = jax.jit(layer_flax.apply)(variables, x)
    y_hk = jax.jit(layer_hk.apply)(variables, x_hk)
    for k, v in to_hk.items():
        np.testing.assert_allclose(y_hk[k]["w"], y_flax[v]["kernel"], atol=1e-6)
        np.testing.assert_allclose(y_hk[k]["b"], y_flax[v]["bias"], atol=1e-6)
