"""The seq2seq GRU, its weight-space spec, the loss, greedy decoding and group training."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.traverse_util import flatten_dict

from predictors.unf.spec import label_sizes, match_spec
from zoo_builder.objective import flax_logits, sequence_loss
from zoo_builder.train import train_group
from zoo_data.archive.layout import training_groups
from zoo_data.rnn.model import Seq2Seq, greedy_success, init_params
from zoo_data.rnn.presets import ZooConfig, problem_sets
from zoo_data.rnn.spec import seq2seq_spec
from zoo_data.rnn.task import PAD, VOCAB_SIZE, encode

DESIGN_NAMES = {
    f"{prefix}{gate}/{leaf}"
    for prefix in ("GRUCell_0/", "DecoderGRUCell_0/GRUCell_0/")
    for gate, leaves in {
        "ir": ("kernel", "bias"), "iz": ("kernel", "bias"), "in": ("kernel", "bias"),
        "hr": ("kernel",), "hz": ("kernel",), "hn": ("kernel", "bias"),
    }.items()
    for leaf in leaves
} | {"DecoderGRUCell_0/Dense_0/kernel", "DecoderGRUCell_0/Dense_0/bias"}


def test_parameters_are_the_22_named_tensors_and_match_the_spec():
    params = init_params(hidden=6, vocab=VOCAB_SIZE, key=jax.random.PRNGKey(0))["params"]
    flat = flatten_dict(params, sep="/")
    assert set(flat) == DESIGN_NAMES and len(flat) == 22
    assert flat["GRUCell_0/ir/kernel"].shape == (VOCAB_SIZE, 6)
    assert flat["DecoderGRUCell_0/Dense_0/kernel"].shape == (6, VOCAB_SIZE)
    tensors = match_spec(seq2seq_spec(), params)
    assert len(tensors) == 22
    assert label_sizes(tensors) == {"hidden": 6, "vocab": VOCAB_SIZE}
    assert label_sizes(match_spec(seq2seq_spec(vocab=None), params)) == {"hidden": 6}


def _permute_hidden(params, perm):
    """Permute the hidden axis of every tensor by ``perm`` (the model's symmetry)."""
    spec = flatten_dict(seq2seq_spec(), sep="/")
    out = {}
    for path, value in flatten_dict(params, sep="/").items():
        for axis, label in enumerate(spec[path]):
            if label == "hidden":
                value = jnp.take(value, perm, axis=axis)
        out[path] = value
    from flax.traverse_util import unflatten_dict

    return unflatten_dict(out, sep="/")


def test_permuting_hidden_units_leaves_the_function_unchanged():
    model = Seq2Seq(hidden=5, vocab=VOCAB_SIZE)
    params = init_params(5, VOCAB_SIZE, jax.random.PRNGKey(1))["params"]
    p = encode(np.array([12, 3, 45]), np.array([9, 88, 5]), max_digits=2)
    q = jax.nn.one_hot(p.question, VOCAB_SIZE)
    d = jax.nn.one_hot(p.decoder_input, VOCAB_SIZE)
    perm = jnp.array([3, 0, 4, 1, 2])
    permuted = _permute_hidden(params, perm)
    np.testing.assert_allclose(
        model.apply({"params": permuted}, q, d), model.apply({"params": params}, q, d),
        rtol=1e-5, atol=1e-6,
    )


def test_loss_counts_answer_tokens_up_to_eos_only():
    model = Seq2Seq(hidden=4, vocab=VOCAB_SIZE)
    params = init_params(4, VOCAB_SIZE, jax.random.PRNGKey(2))["params"]
    p = encode(np.array([1, 99]), np.array([2, 1]), max_digits=2)  # "3$__" and "100$"
    q = jax.nn.one_hot(p.question, VOCAB_SIZE)
    d = jax.nn.one_hot(p.decoder_input, VOCAB_SIZE)
    logp = jax.nn.log_softmax(model.apply({"params": params}, q, d))
    by_hand = -(logp[0, 0, 3] + logp[0, 1, 12] + sum(logp[1, t, k] for t, k in
                                                      enumerate([1, 0, 0, 12]))) / 2
    loss = sequence_loss(flax_logits(model), params, jnp.asarray(p.question),
                         jnp.asarray(p.decoder_input), jnp.asarray(p.answer))
    np.testing.assert_allclose(loss, by_hand, rtol=1e-5)


def test_greedy_success_requires_the_whole_completion():
    """A readout that always emits "3" gets the first character of "3<EOS>" right and
    then misses <EOS>: no problem counts as solved."""
    model = Seq2Seq(hidden=4, vocab=VOCAB_SIZE)
    params = init_params(4, VOCAB_SIZE, jax.random.PRNGKey(3))["params"]
    flat = flatten_dict(params, sep="/")
    kernel = "DecoderGRUCell_0/Dense_0/kernel"
    flat[kernel] = jnp.zeros_like(flat[kernel])
    flat["DecoderGRUCell_0/Dense_0/bias"] = jnp.zeros(VOCAB_SIZE).at[3].set(10.0)
    from flax.traverse_util import unflatten_dict

    always_3 = unflatten_dict(flat, sep="/")
    p = encode(np.array([1, 0, 2]), np.array([2, 3, 1]), max_digits=1)  # all sum to 3
    ok = greedy_success(model, always_3, jnp.asarray(p.question), jnp.asarray(p.answer))
    np.testing.assert_array_equal(ok, [0.0, 0.0, 0.0])  # "3" right, then "3" instead of <EOS>


def test_training_reduces_the_loss_and_is_deterministic():
    config = ZooConfig("train-test", num_models=6, hidden=8, max_digits=1, steps=150,
                       n_test=20, n_train_pool=60, group_size=6, batch_sizes=(64,),
                       lr_min=3e-3, lr_max=3e-2)
    (group,) = training_groups(config)
    first = train_group(config, group, chunk_steps=150)
    again = train_group(config, group, chunk_steps=75)  # other chunking, same models
    for a, b in zip(jax.tree_util.tree_leaves(first.params),
                    jax.tree_util.tree_leaves(again.params), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first.test_sr, again.test_sr)
    assert first.test_sr.shape == first.test_loss.shape == first.train_loss.shape == (6,)
    assert np.all((first.test_sr >= 0) & (first.test_sr <= 1))
    assert all(leaf.shape[0] == 6 for leaf in jax.tree_util.tree_leaves(first.params))
    # 150 Adam steps at lr >= 3e-3 end far below the loss at initialisation (~3 ln 14)
    assert np.all(first.train_loss < 0.8 * 3 * np.log(VOCAB_SIZE)), first.train_loss
    assert first.test_sr.max() > 0  # so that the check below compares real successes
    # greedy decoding succeeds iff teacher-forced argmax matches every answer token up
    # to <EOS> (the fed-back tokens are then the teacher's): an independent SR check
    test, _ = problem_sets(config)
    model = Seq2Seq(hidden=config.hidden, vocab=VOCAB_SIZE)
    q = jax.nn.one_hot(test.question, VOCAB_SIZE)
    d = jax.nn.one_hot(test.decoder_input, VOCAB_SIZE)
    mask = test.answer != PAD
    for m in range(6):
        params = jax.tree_util.tree_map(lambda x, m=m: x[m], first.params)
        pred = np.asarray(jnp.argmax(model.apply({"params": params}, q, d), -1))
        ok = np.all(np.where(mask, pred == test.answer, True), axis=1)
        assert abs(ok.mean() - first.test_sr[m]) < 1e-6
    longer = train_group(dataclasses.replace(config, steps=151), group, chunk_steps=151)
    assert not np.array_equal(longer.test_loss, first.test_loss)


def test_group_initialisation_does_not_deadlock():
    """Regression: initialising a group under ``vmap`` turned flax's orthogonal
    initialiser into a batched LAPACK QR that deadlocked XLA's CPU thread pool (it hung
    in 3 of 3 runs of this script). Run in a subprocess so that a hang fails the test."""
    script = """
import dataclasses, jax, jax.numpy as jnp
from zoo_builder.train import model_key
from zoo_data.rnn.presets import ZooConfig
from zoo_builder.train import group_programs
cfg = ZooConfig("init-test", 480, 64, 2, 10, 20, 100, 16)
init = group_programs(cfg, 64).init
for r in range(30):
    keys = jnp.stack([model_key(cfg, i + 16 * r) for i in range(16)])
    jax.block_until_ready(init(keys))
print("done")
"""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "done", result.stderr


def test_intermediate_evaluations_match_shorter_training():
    config = ZooConfig("eval-at-test", num_models=4, hidden=8, max_digits=1, steps=120,
                       n_test=20, n_train_pool=60, group_size=4, batch_sizes=(64,),
                       lr_min=3e-3, lr_max=3e-2)
    (group,) = training_groups(config)
    full = train_group(config, group, chunk_steps=60, evaluate_at=[60])
    plain = train_group(config, group, chunk_steps=60)
    shorter = train_group(dataclasses.replace(config, steps=60), group, chunk_steps=60)
    assert set(full.sr_at) == {60} and plain.sr_at == {}
    np.testing.assert_array_equal(full.sr_at[60], shorter.test_sr)
    np.testing.assert_array_equal(full.test_sr, plain.test_sr)
    for a, b in zip(jax.tree_util.tree_leaves(full.params),
                    jax.tree_util.tree_leaves(plain.params), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="evaluate_at"):
        train_group(config, group, evaluate_at=[120])


def test_fused_forward_pass_is_flax_seq2seq_with_its_gradients():
    from zoo_builder.fused import fused_logits

    model = Seq2Seq(hidden=16, vocab=VOCAB_SIZE)
    p = encode(np.array([12, 3, 45, 99]), np.array([9, 88, 5, 1]), max_digits=2)
    q, d, a = (jnp.asarray(x, jnp.int32) for x in (p.question, p.decoder_input, p.answer))
    params = init_params(16, VOCAB_SIZE, jax.random.PRNGKey(3))["params"]
    # non-zero biases, so that a bias in the wrong gate would show
    params = jax.tree_util.tree_map(
        lambda x: x + 0.1 * jax.random.normal(jax.random.PRNGKey(x.size), x.shape), params)
    qo, do = jax.nn.one_hot(q, VOCAB_SIZE), jax.nn.one_hot(d, VOCAB_SIZE)
    np.testing.assert_allclose(fused_logits(params, qo, do), flax_logits(model)(params, qo, do),
                               rtol=1e-5, atol=1e-6)
    grad = jax.jit(jax.grad(sequence_loss, argnums=1), static_argnums=0)  # op by op: slower
    g_fused = grad(fused_logits, params, q, d, a)
    g_flax = grad(flax_logits(model), params, q, d, a)
    flat_fused = dict(jax.tree_util.tree_leaves_with_path(g_fused))
    for path, g in jax.tree_util.tree_leaves_with_path(g_flax):
        assert np.abs(np.asarray(g)).max() > 0, path
        np.testing.assert_allclose(flat_fused[path], g, rtol=1e-4, atol=1e-6, err_msg=str(path))
