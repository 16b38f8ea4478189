"""The dot-floor benchmark (:mod:`scripts.unf_step_dot_floor`): every ``dot_general`` of a
program is found (nested calls and derivatives included) and counted exactly, its FLOPs
are ``2 B M N K``, and its canonical ``(B, M, K) @ (B, K, N)`` form is the same product."""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from scripts.unf_step_dot_floor import (
    canonical_operands,
    dot_bytes,
    dot_floor,
    dot_flops,
    dot_signatures,
    roofline_ms,
)


def test_every_dot_is_found_through_jit_and_grad_and_counted():
    w = jnp.ones((3, 5))

    @jax.jit
    def inner(x):
        return x @ w

    def loss(x):
        return jnp.sum(jax.nn.relu(inner(x)) @ jnp.ones((5, 2)))

    sigs = dot_signatures(jax.make_jaxpr(jax.grad(loss))(jnp.ones((4, 3))))
    # forward: (4,3)@(3,5) inside the jit, (4,5)@(5,2) outside; backward: one dot per
    # differentiated operand, x's cotangent through both (w and the ones are constants)
    assert sum(sigs.values()) == 4
    assert sigs[((4, 3), (3, 5), (((1,), (0,)), ((), ())))] == 1
    assert sigs[((4, 5), (5, 2), (((1,), (0,)), ((), ())))] == 1


def test_flops_are_two_b_m_n_k():
    sig = ((7, 4, 3), (7, 3, 5), (((2,), (1,)), ((0,), (0,))))  # batch 7, M 4, K 3, N 5
    assert dot_flops(sig) == 2 * 7 * 4 * 5 * 3
    sig = ((2, 3, 6), (6, 9), (((2,), (0,)), ((), ())))  # free axes of lhs flattened: M 6
    assert dot_flops(sig) == 2 * 6 * 9 * 6


@pytest.mark.parametrize("dn, lhs_shape, rhs_shape", [
    ((((1,), (0,)), ((), ())), (4, 3), (3, 5)),
    ((((0,), (0,)), ((), ())), (3, 4), (3, 5)),  # a weight gradient: contract the batch
    ((((3,), (0,)), ((), ())), (2, 4, 4, 3), (3, 6)),
    ((((1, 3), (2, 0)), ((0,), (1,))), (2, 5, 4, 3), (3, 2, 5, 6)),
])
def test_canonical_operands_compute_the_same_product(dn, lhs_shape, rhs_shape):
    rng = np.random.default_rng(0)
    lhs = rng.standard_normal(lhs_shape, dtype=np.float32)
    rhs = rng.standard_normal(rhs_shape, dtype=np.float32)
    a, b = canonical_operands((lhs_shape, rhs_shape, dn), lhs, rhs)
    assert a.ndim == b.ndim == 3 and a.shape[2] == b.shape[1]
    want = np.asarray(lax.dot_general(lhs, rhs, dn)).reshape(a.shape[0], -1)
    np.testing.assert_allclose((a @ b).reshape(a.shape[0], -1), want, rtol=1e-5, atol=1e-5)


def test_the_floor_times_every_signature_once_with_its_count():
    sigs = collections.Counter({((64, 32), (32, 16), (((1,), (0,)), ((), ()))): 3,
                                ((32, 64), (32, 16), (((0,), (0,)), ((), ()))): 1})
    rows = dot_floor(sigs, repeats=2)
    assert [r["count"] for r in rows] == [3, 1]
    for r in rows:
        assert r["as_is_ms"] > 0 and r["canonical_ms"] > 0 and r["call_ms"] > 0
        assert r["gflop"] == pytest.approx(2 * 64 * 32 * 16 / 1e9)


def test_bytes_are_both_operands_and_the_output():
    sig = ((7, 4, 3), (7, 3, 5), (((2,), (1,)), ((0,), (0,))))
    assert dot_bytes(sig) == 4 * (7 * 4 * 3 + 7 * 3 * 5 + 7 * 4 * 5)


def test_the_roofline_is_the_slower_of_arithmetic_and_memory():
    row = {"gflop": 2.0, "gbytes": 0.5}
    assert roofline_ms(row, gflop_per_s=100.0, gbyte_per_s=10.0) == pytest.approx(50.0)  # memory
    assert roofline_ms(row, gflop_per_s=10.0, gbyte_per_s=10.0) == pytest.approx(200.0)  # FLOPs
