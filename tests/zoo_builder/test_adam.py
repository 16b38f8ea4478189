"""The builder's Adam is optax's Adam (up to float rounding), step by step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from zoo_builder.adam import adam_init, adam_update


def test_adam_follows_optax_adam():
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    params = {"w": jax.random.normal(keys[0], (5, 3)), "b": jnp.zeros(3)}
    lr = 3e-3
    reference, ref_state = params, optax.adam(lr).init(params)
    ours, state = params, adam_init(params)
    for t in range(20):
        grads = {"w": jax.random.normal(jax.random.fold_in(keys[1], t), (5, 3)),
                 "b": jax.random.normal(jax.random.fold_in(keys[2], t), (3,)) * 1e-3}
        updates, ref_state = optax.adam(lr).update(grads, ref_state, reference)
        reference = optax.apply_updates(reference, updates)
        ours, state = adam_update(grads, state, ours, lr)
    assert int(state.count) == 20
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(reference),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    moved = np.abs(np.asarray(ours["w"]) - np.asarray(params["w"])).max()
    assert moved > 2 * lr  # 20 steps of at most about lr each, random signs: not a no-op


def test_adam_under_vmap_uses_each_models_learning_rate():
    params = {"w": jnp.ones((2, 4))}
    grads = {"w": jnp.ones((2, 4))}
    lrs = jnp.asarray([1e-3, 1e-2])
    new, _ = jax.vmap(adam_update)(grads, jax.vmap(adam_init)(params), params, lrs)
    # the first Adam step moves every weight by lr (m^/sqrt(v^) = 1 for a constant grad)
    np.testing.assert_allclose(1.0 - np.asarray(new["w"]), [[1e-3] * 4, [1e-2] * 4],
                               rtol=1e-4)
