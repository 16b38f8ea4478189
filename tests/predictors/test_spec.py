"""Spec validation: mismatches are ValueErrors naming the tensor path and axis."""

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.core import freeze

from predictors.unf import match_spec
from zoo_data.rnn.model import init_params
from zoo_data.rnn.spec import seq2seq_spec


def _mlp():
    return {
        "Dense_0": {"kernel": np.zeros((3, 4)), "bias": np.zeros(4)},
        "Dense_1": {"kernel": np.zeros((4, 2)), "bias": np.zeros(2)},
    }


SPEC = {
    "Dense_0": {"kernel": ("in", "h"), "bias": ("h",)},
    "Dense_1": {"kernel": ("h", "out"), "bias": ("out",)},
}


def test_matching_spec_gives_paths_labels_and_shapes():
    tensors = match_spec(SPEC, _mlp())
    assert [t.path for t in tensors] == [
        "Dense_0/bias",
        "Dense_0/kernel",
        "Dense_1/bias",
        "Dense_1/kernel",
    ]
    assert tensors[1].labels == ("in", "h") and tensors[1].shape == (3, 4)


def test_missing_key_is_named():
    spec = {"Dense_0": SPEC["Dense_0"], "Dense_1": {"kernel": ("h", "out")}}
    with pytest.raises(ValueError, match="'Dense_1/bias'"):
        match_spec(spec, _mlp())


def test_extra_key_is_named():
    spec = {**SPEC, "Dense_2": {"kernel": ("out", "z")}}
    with pytest.raises(ValueError, match="'Dense_2/kernel'"):
        match_spec(spec, _mlp())


def test_wrong_rank_is_named():
    spec = {**SPEC, "Dense_1": {"kernel": ("h",), "bias": ("out",)}}
    with pytest.raises(ValueError, match=r"'Dense_1/kernel'.*1 axis labels"):
        match_spec(spec, _mlp())


def test_label_bound_to_two_sizes_names_both_tensors_and_axes():
    spec = {**SPEC, "Dense_1": {"kernel": ("in", "out"), "bias": ("out",)}}
    with pytest.raises(ValueError) as err:
        match_spec(spec, _mlp())
    msg = str(err.value)
    assert "'Dense_1/kernel' axis 0" in msg and "'Dense_0/kernel' axis 0" in msg
    assert "'in'" in msg


def test_bad_label_type_is_rejected():
    spec = {**SPEC, "Dense_1": {"kernel": ("h", 1.5), "bias": ("out",)}}
    with pytest.raises(ValueError, match=r"'Dense_1/kernel' axis 1"):
        match_spec(spec, _mlp())


def test_leading_and_trailing_axes_are_excluded():
    batched = jax.tree_util.tree_map(lambda a: np.zeros((5, *a.shape, 7)), _mlp())
    assert len(match_spec(SPEC, batched, leading=1, trailing=1)) == 4
    with pytest.raises(ValueError, match="axes"):
        match_spec(SPEC, batched)


def test_flax_params_and_frozen_dicts_match_the_zoo_spec():
    params = init_params(hidden=6, vocab=5, key=jax.random.PRNGKey(0))["params"]
    assert len(match_spec(seq2seq_spec(), params)) == 22
    assert len(match_spec(freeze(seq2seq_spec()), freeze(params))) == 22


def test_haiku_params_match_a_haiku_spec():
    def f(x):
        return hk.nets.MLP([4, 3], name="mlp")(x)

    params = hk.transform(f).init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    spec = {
        "mlp/~/linear_0": {"w": ("i", "h"), "b": ("h",)},
        "mlp/~/linear_1": {"w": ("h", "o"), "b": ("o",)},
    }
    tensors = match_spec(spec, params)
    assert {t.path for t in tensors} == {
        "mlp/~/linear_0/w",
        "mlp/~/linear_0/b",
        "mlp/~/linear_1/w",
        "mlp/~/linear_1/b",
    }
