"""Learning-rate schedules: their factors, their use in training, and bad names."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from zoo_builder.adam import adam_init, adam_update
from zoo_builder.schedule import lr_factor
from zoo_builder.train import train_group
from zoo_data.archive.layout import training_groups
from zoo_data.rnn.presets import ZooConfig


def test_constant_is_one_and_cosine_decays_from_one_to_zero():
    steps = jnp.arange(10)
    np.testing.assert_array_equal(lr_factor("constant", steps, 10), np.ones(10))
    cosine = np.asarray(lr_factor("cosine", steps, 10))
    assert cosine[0] == 1.0 and np.all(np.diff(cosine) < 0) and 0 < cosine[-1] < 0.03
    np.testing.assert_allclose(cosine[5], 0.5, atol=1e-7)  # half-way: half the peak


def test_cosine_matches_optax_cosine_decay():
    reference = optax.cosine_decay_schedule(1.0, decay_steps=250)
    for t in (0, 1, 17, 125, 200, 249):
        np.testing.assert_allclose(lr_factor("cosine", t, 250), reference(t), rtol=1e-6,
                                   atol=1e-7)


def test_scheduled_adam_follows_optax_adam_with_the_schedule():
    lr, steps = 5e-3, 12
    params = {"w": jax.random.normal(jax.random.PRNGKey(0), (4, 3))}
    opt = optax.adam(optax.cosine_decay_schedule(lr, steps))
    reference, ref_state = params, opt.init(params)
    ours, state = params, adam_init(params)
    for t in range(steps):
        grads = {"w": jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(1), t), (4, 3))}
        updates, ref_state = opt.update(grads, ref_state, reference)
        reference = optax.apply_updates(reference, updates)
        ours, state = adam_update(grads, state, ours, lr * lr_factor("cosine", t, steps))
    np.testing.assert_allclose(ours["w"], reference["w"], rtol=1e-5, atol=1e-7)


def test_unknown_schedule_is_rejected():
    with pytest.raises(ValueError, match="lr_schedule 'linear'"):
        lr_factor("linear", 0, 10)
    with pytest.raises(ValueError, match="lr_schedule 'linear'"):
        ZooConfig("s", 4, 8, 1, 10, 10, 10, 4, lr_schedule="linear")


def test_constant_schedule_keeps_old_fingerprints():
    config = ZooConfig("s", 4, 8, 1, 10, 10, 10, 4)
    assert "lr_schedule" not in config.to_dict()
    cosine = dataclasses.replace(config, lr_schedule="cosine")
    assert cosine.to_dict()["lr_schedule"] == "cosine"
    assert ZooConfig.from_dict(cosine.to_dict()) == cosine
    assert cosine.fingerprint() != config.fingerprint()


def test_training_with_cosine_decay_is_deterministic_and_differs_from_constant():
    config = ZooConfig("sched-test", num_models=2, hidden=8, max_digits=1, steps=40, n_test=20,
                       n_train_pool=60, group_size=2, batch_sizes=(16,), lr_min=1e-2,
                       lr_max=2e-2, lr_schedule="cosine")
    group = training_groups(config)[0]
    first = train_group(config, group, chunk_steps=15)
    again = train_group(config, group, chunk_steps=40)  # chunking changes nothing
    constant = train_group(dataclasses.replace(config, lr_schedule="constant"), group)
    for a, b, c in zip(jax.tree_util.tree_leaves(first.params),
                       jax.tree_util.tree_leaves(again.params),
                       jax.tree_util.tree_leaves(constant.params), strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
