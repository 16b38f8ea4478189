"""Tensor classes (:mod:`predictors.unf.classes`): the stacked representation the UNF
layers work on must be a lossless rearrangement of the per-tensor features, and every
piece of the class plan must agree with the per-tensor plan it restates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from predictors.unf import invariant_pool, pool_classes
from predictors.unf.basis import expand_pattern
from predictors.unf.classes import class_plan, stack, unstack
from predictors.unf.layer import flat_features
from predictors.unf_predictor import UNFNet
from tests.predictors.helpers import random_features
from tests.predictors.spaces import SPACES
from tests.predictors.unf_layer_previous import UNFNetPrevious


def _setup(name, channels=3, batch=2, seed=0):
    spec, params = SPACES[name]()
    x = random_features(np.random.default_rng(seed), params, batch=batch, channels=channels)
    tensors, leaves, _, _ = flat_features(spec, x)
    return spec, x, tensors, leaves, class_plan(tuple(tensors))


@pytest.mark.parametrize("name", sorted(SPACES))
def test_classes_partition_the_tensors_by_labels_and_shape(name):
    _, _, tensors, _, cplan = _setup(name)
    members = [m for ms in cplan.members for m in ms]
    assert sorted(members) == list(range(len(tensors)))  # each tensor in exactly one class
    for ms in cplan.members:
        assert len({(tensors[m].labels, tensors[m].shape) for m in ms}) == 1
    keys = [(tensors[ms[0]].labels, tensors[ms[0]].shape) for ms in cplan.members]
    assert len(set(keys)) == len(keys)  # and equal tensors are never in two classes


def test_the_gru_has_five_classes():
    _, _, tensors, _, cplan = _setup("gru-seq2seq-flax")
    sizes = sorted(len(ms) for ms in cplan.members)
    assert len(tensors) == 22 and sizes == [1, 1, 6, 6, 8]


@pytest.mark.parametrize("name", sorted(SPACES))
def test_stack_then_unstack_is_the_identity_bit_for_bit(name):
    _, _, tensors, leaves, cplan = _setup(name)
    xs = stack(leaves, cplan)
    for c, x in enumerate(xs):
        t = cplan.representative(c)
        assert x.shape == (2, *t.permuted_shape, cplan.width(c, 3))
    back = unstack(xs, cplan)
    for a, b in zip(back, leaves, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", sorted(SPACES))
def test_pool_classes_equals_invariant_pool(name):
    spec, x, _, leaves, cplan = _setup(name)
    np.testing.assert_allclose(np.asarray(pool_classes(stack(leaves, cplan), cplan)),
                               np.asarray(invariant_pool(x, spec)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_class_groups_use_every_coefficient_row_once_and_the_same_masks(name):
    _, _, tensors, _, cplan = _setup(name)
    assert len(cplan.groups) == len(cplan.plan.groups)
    for cg, g in zip(cplan.groups, cplan.plan.groups, strict=True):
        start, stop = g.row_units
        assert sorted(cg.units.tolist()) == list(range(start, stop))
        assert cplan.members[cg.out_class] == g.out_indices
        # the stacked input width is the number of row blocks
        width = sum(cplan.width(c, 1) for c, _ in cg.parts)
        assert width == len(cg.units)
        out_shape = tensors[g.out_indices[0]].permuted_shape
        mask = cg.mask(out_shape, jnp.float32)
        if g.mask is None:
            assert mask is None
        else:
            np.testing.assert_array_equal(np.asarray(mask), g.mask)
            _, expected = expand_pattern(g.terms[0].term.output_pattern, out_shape)
            np.testing.assert_array_equal(g.mask, expected)


def test_a_wrong_input_width_is_rejected_by_the_stacked_layer():
    """A class array whose width is not ``K F c_in`` of class 0 cannot be mixed: shapes
    of the group matmul disagree and JAX refuses."""
    from predictors.unf import UNFLayer

    spec, x, _, leaves, cplan = _setup("mlp-flax")
    xs = list(stack(leaves, cplan))
    xs[-1] = xs[-1][..., :-1]
    layer = UNFLayer(spec, 2)
    with pytest.raises(TypeError):
        layer.init(jax.random.PRNGKey(0), tuple(xs), cplan, method=UNFLayer.stacked)


@pytest.mark.parametrize("name,channels", [
    ("gru-seq2seq-flax", (3,)),
    pytest.param("mlp-flax", (4, 3), marks=pytest.mark.slow),  # two layers; 9 s
])
def test_predictor_network_equals_the_per_tensor_network(name, channels):
    """The UNF predictor's network (stacked once, pooled from classes) computes the
    same function, with the same parameter tree, as the per-tensor network built on
    the previous layer and :func:`invariant_pool`."""
    spec, params = SPACES[name]()
    x = random_features(np.random.default_rng(1), params, batch=3, channels=1)
    new, old = UNFNet(spec, channels, (8,)), UNFNetPrevious(spec, channels, (8,))
    # jitted: initialising op by op takes longer than compiling (both networks alike)
    v_new = jax.jit(new.init)(jax.random.PRNGKey(3), x)
    v_old = jax.jit(old.init)(jax.random.PRNGKey(3), x)
    assert jax.tree_util.tree_structure(v_new) == jax.tree_util.tree_structure(v_old)
    for a, b in zip(jax.tree_util.tree_leaves(v_new), jax.tree_util.tree_leaves(v_old),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    rng = np.random.default_rng(4)
    v = jax.tree_util.tree_map(lambda a: a + 0.1 * jnp.asarray(rng.normal(size=a.shape),
                                                               a.dtype), v_new)
    np.testing.assert_allclose(np.asarray(jax.jit(new.apply)(v, x)),
                               np.asarray(jax.jit(old.apply)(v, x)),
                               rtol=1e-5, atol=1e-6)
