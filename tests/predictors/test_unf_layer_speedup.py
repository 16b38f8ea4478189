"""The library's UNF layer computes the previous layer's function (issue 18).

:class:`tests.predictors.unf_layer_previous.UNFLayerPrevious` is the layer the library had
before the faster one; both are initialised from the same key, so they must have identical
parameters (names, shapes, values) and, on random inputs, equal outputs and equal
gradients with respect to the parameters and the input, up to float32 rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from predictors.unf import UNFLayer
from tests.predictors.helpers import random_features
from tests.predictors.spaces import SPACES
from tests.predictors.unf_layer_previous import UNFLayerPrevious


def _loss(apply):
    def loss(variables, x):
        out = apply(variables, x)
        return sum(jnp.sum(jnp.sin(v)) for v in jax.tree_util.tree_leaves(out))

    return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def _assert_close(a, b, rtol=1e-5):
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        u, v = np.asarray(u), np.asarray(v)
        assert u.shape == v.shape
        scale = max(float(np.max(np.abs(v))), 1e-6)
        np.testing.assert_allclose(u, v, rtol=rtol, atol=rtol * scale)


CI_SPACES = ("gru-seq2seq-flax", "mlp-flax")


@pytest.mark.parametrize(
    "name,c_in,c_out",
    [
        # the zoo's GRU and an MLP in CI; the other weight spaces (20-110 s each) run with
        # the slow tests, as does the first layer (one input channel)
        pytest.param(name, 3, 2, marks=[] if name in CI_SPACES else [pytest.mark.slow])
        for name in SPACES
    ]
    + [pytest.param("gru-seq2seq-flax", 1, 4, marks=[pytest.mark.slow])],
)
def test_layer_equals_previous_implementation(name, c_in, c_out):
    spec, params = SPACES[name]()
    rng = np.random.default_rng(abs(hash((name, c_in, c_out))) % 2**32)
    x = random_features(rng, params, batch=3, channels=c_in)
    new, old = UNFLayerPrevious(spec, c_out), UNFLayer(spec, c_out)
    # jitted: initialising op by op takes longer than compiling (both layers alike)
    variables = jax.jit(new.init)(jax.random.PRNGKey(2), x)
    reference_vars = jax.jit(old.init)(jax.random.PRNGKey(2), x)
    # Same parameters: pytree structure, names, shapes and initial values.
    assert jax.tree_util.tree_structure(variables) == jax.tree_util.tree_structure(
        reference_vars
    )
    _assert_close(variables, reference_vars, rtol=0)
    # Nonzero biases and generic coefficients, so every term and bias is exercised.
    variables = jax.tree_util.tree_map(
        lambda a: a + 0.1 * jnp.asarray(rng.normal(size=a.shape), a.dtype), variables
    )
    _assert_close(jax.jit(new.apply)(variables, x), jax.jit(old.apply)(variables, x))
    (loss_new, grads_new), (loss_old, grads_old) = (
        _loss(new.apply)(variables, x),
        _loss(old.apply)(variables, x),
    )
    np.testing.assert_allclose(loss_new, loss_old, rtol=1e-5)
    _assert_close(grads_new, grads_old)


@pytest.mark.slow
def test_speed_benchmark_runs_on_a_tiny_weight_space(tmp_path):
    """``scripts.unf_layer_speed`` (layer, v1, matmul, predictor steps) runs end
    to end and writes its JSON."""
    import json

    from scripts.unf_layer_speed import main

    out = tmp_path / "speed.json"
    main(["--hidden", "4", "--vocab", "3", "--batch", "2", "--channels", "2",
          "--repeats", "1", "--predictor-steps", "1", "--train-models", "20",
          "--json", str(out)])
    result = json.loads(out.read_text())
    assert result["ours"]["params"] == result["v1"]["params"]
    assert result["v1_over_ours"] > 0 and result["ours_over_matmul_same_flops"] > 0
    steps = result["predictor_steps"]
    assert {"unf", "unf_v1", "statnn", "deep-sets"} <= set(steps)
    assert steps["unf"]["epoch_min"] >= 0
