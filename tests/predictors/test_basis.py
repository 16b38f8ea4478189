"""Each basis function's array implementation equals its definition (Eq. 25), and the
layer's basis is maximal: linearly independent and as large as the space of
equivariant linear maps (counted independently by orbits)."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from predictors.unf import BasisTerm, UNFLayer, term_matrix, valid_partitions
from predictors.unf.basis import expand_pattern
from predictors.unf.plan import layer_plan
from predictors.unf.spec import match_spec
from tests.predictors.helpers import count_orbits, random_features

PAIRS = [
    (("a", "b"), ("a", "b"), {"a": 3, "b": 2}),
    (("a", "a"), ("a", "a"), {"a": 4}),
    (("a",), ("a", "a"), {"a": 3}),
    (("a", "a"), ("a",), {"a": 3}),
    (("a", "b", "a"), ("b", "a"), {"a": 3, "b": 2}),
    ((), ("a", "b"), {"a": 2, "b": 3}),
    (("b",), (), {"b": 3}),
]


def _apply_term(term, x, out_shape):
    """The array implementation of one term: reduce, then expand (batch 1, channel 1)."""
    y = term.reduce(x)
    shape, mask = expand_pattern(term.output_pattern, out_shape)
    y = y.reshape((y.shape[0], *shape, y.shape[-1]))
    if mask is not None:
        y = y * mask
    return jnp.broadcast_to(y, (y.shape[0], *out_shape, y.shape[-1]))


@pytest.mark.parametrize("out_labels,in_labels,sizes", PAIRS)
def test_array_implementation_matches_definition(out_labels, in_labels, sizes):
    out_shape = tuple(sizes[lab] for lab in out_labels)
    in_shape = tuple(sizes[lab] for lab in in_labels)
    rng = np.random.default_rng(0)
    x = rng.normal(size=in_shape)
    for partition in valid_partitions(out_labels, in_labels):
        term = BasisTerm(partition, len(out_labels), len(in_labels))
        expected = term_matrix(term, out_shape, in_shape) @ x.reshape(-1)
        got = _apply_term(term, jnp.asarray(x[None, ..., None], jnp.float32), out_shape)
        np.testing.assert_allclose(np.asarray(got).reshape(-1), expected, atol=1e-5)


@pytest.mark.parametrize("out_labels,in_labels,sizes", PAIRS)
def test_pair_basis_is_independent_and_spans_all_equivariant_maps(out_labels, in_labels, sizes):
    out_shape = tuple(sizes[lab] for lab in out_labels)
    in_shape = tuple(sizes[lab] for lab in in_labels)
    mats = [
        term_matrix(BasisTerm(p, len(out_labels), len(in_labels)), out_shape, in_shape).ravel()
        for p in valid_partitions(out_labels, in_labels)
    ]
    spec = {"out": out_labels, "in": in_labels}
    params = {"out": np.zeros(out_shape), "in": np.zeros(in_shape)}
    dim = count_orbits(spec, params, outputs={"out"}, inputs={"in"})
    assert np.linalg.matrix_rank(np.stack(mats)) == len(mats) == dim


def _layer_maps(spec, params):
    """Every coefficient of a 1-channel layer, switched on alone, as a dense linear map."""
    x = jax.tree_util.tree_map(lambda p: jnp.zeros((1, *p.shape, 1), jnp.float32), params)
    layer = UNFLayer(spec, 1)
    variables = jax.jit(layer.init)(jax.random.PRNGKey(0), x)  # faster than op by op
    thetas = {k: v for k, v in variables["params"].items() if k.startswith("theta")}
    flat_x, unravel_x = jax.flatten_util.ravel_pytree(x)

    @jax.jit
    def linear_map(theta):
        v = {"params": {**variables["params"], **theta}}
        v["params"] = {
            k: (jnp.zeros_like(a) if k.startswith("bias") else a) for k, a in v["params"].items()
        }

        def f(flat):
            return jax.flatten_util.ravel_pytree(layer.apply(v, unravel_x(flat)))[0]

        return jax.jacfwd(f)(flat_x).ravel()

    maps = []
    for name, arr in thetas.items():
        for k in range(arr.size):
            one = {n: jnp.zeros_like(a) for n, a in thetas.items()}
            one[name] = one[name].reshape(-1).at[k].set(1.0).reshape(arr.shape)
            maps.append(linear_map(one))
    return np.stack(maps)


@pytest.mark.parametrize(
    "spec,shapes",
    [
        (  # an MLP weight space
            {"W1": ("i", "h"), "b1": ("h",), "W2": ("h", "o"), "b2": ("o",)},
            {"W1": (2, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)},
        ),
        (  # recurrent square kernel, a vector, and a None axis (folded into channels)
            {"W": ("a", "a"), "b": ("a",), "V": (None, "a")},
            {"W": (4, 4), "b": (4,), "V": (2, 4)},
        ),
    ],
)
def test_layer_is_maximal_on_tiny_weight_spaces(spec, shapes):
    params = {k: np.zeros(s) for k, s in shapes.items()}
    maps = _layer_maps(spec, params)
    dim = count_orbits(spec, params)
    assert maps.shape[0] == dim  # as many coefficients as equivariant maps
    assert np.linalg.matrix_rank(maps) == dim  # and they are independent


def test_layer_equals_the_sum_of_its_terms():
    """Grouped evaluation == sum over terms of (explicit term matrix) x (coefficients)."""
    spec = {"W": ("a", "a"), "b": ("a",), "V": (None, "a"), "U": ("c", "a")}
    shapes = {"W": (3, 3), "b": (3,), "V": (2, 3), "U": (2, 3)}
    rng = np.random.default_rng(1)
    params = {k: np.zeros(s) for k, s in shapes.items()}
    x = random_features(rng, params, batch=2, channels=3)
    layer = UNFLayer(spec, 4)
    variables = jax.jit(layer.init)(jax.random.PRNGKey(3), x)  # faster than op by op
    variables = jax.tree_util.tree_map(lambda a: a + 0.1, variables)  # nonzero biases too
    got = jax.jit(layer.apply)(variables, x)

    tensors = match_spec(spec, x, 1, 1)
    plan = layer_plan(tuple(tensors))
    theta = variables["params"]
    for li, out in enumerate(tensors):
        key = out.path
        fold_out = out.fold
        total = 0.0
        for group in plan.groups:
            if li not in group.out_indices:
                continue
            for pt in group.terms:
                inp = tensors[pt.in_index]
                xin = np.asarray(x[inp.path])
                # fold None axes: (B, *perm, *fixed, C) -> (B, N_perm, F*C)
                order = (
                    0,
                    *(1 + a for a in inp.permuted_axes),
                    *(1 + a for a in inp.fixed_axes),
                    xin.ndim - 1,
                )
                xf = np.transpose(xin, order).reshape(2, -1, inp.fold * 3)
                mat = term_matrix(pt.term, out.permuted_shape, inp.permuted_shape)
                rows = np.asarray(theta[f"theta_{li}"])[
                    pt.row_unit * 3 : (pt.row_unit + pt.units) * 3
                ]
                total = total + np.einsum("oi,bik,kq->boq", mat, xf, rows)
        total = total + np.asarray(theta[f"bias_{li}"]).reshape(-1)
        y = np.asarray(got[key])
        order = (
            0,
            *(1 + a for a in out.permuted_axes),
            *(1 + a for a in out.fixed_axes),
            y.ndim - 1,
        )
        yf = np.transpose(y, order).reshape(2, -1, fold_out * 4)
        np.testing.assert_allclose(yf, total, atol=1e-4, err_msg=key)
