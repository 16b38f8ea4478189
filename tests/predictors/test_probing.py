"""The probing predictor (predictors/probing.py): real training-pool problems only, the
same for every network, invariant to the hidden-unit symmetry, refused where a family
has no problems to run."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from predictors.probing import Probing
from predictors.unf import permute_each
from tests.predictors.helpers import H, random_weights
from zoo_data.rnn.presets import get_preset, problem_sets
from zoo_data.rnn.probes import probing_problems
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec

CONFIG = dataclasses.replace(get_preset("tiny"), hidden=H)


def test_the_problems_come_from_the_training_pool_never_the_test_set():
    test, pool = problem_sets(CONFIG)
    chosen = probing_problems(CONFIG, 30, Probing.problem_seed)
    pairs = set(zip(chosen.a.tolist(), chosen.b.tolist(), strict=True))
    assert len(pairs) == 30  # distinct
    assert pairs <= set(zip(pool.a.tolist(), pool.b.tolist(), strict=True))
    assert not pairs & set(zip(test.a.tolist(), test.b.tolist(), strict=True))
    again = probing_problems(CONFIG, 30, Probing.problem_seed)
    np.testing.assert_array_equal(again.question, chosen.question)  # the same every time
    with pytest.raises(ValueError, match="num_problems 81: the training pool holds 80"):
        probing_problems(CONFIG, 81, 0)


def test_features_are_answer_log_probabilities_and_greedy_correctness_and_invariant():
    predictor = Probing(num_problems=6)
    predictor.bind(CONFIG)
    x = random_weights(3)
    feats = predictor.features(x, seq2seq_spec())
    t_a = CONFIG.max_digits + 2
    assert feats.shape == (3, 6 * (t_a + 1)) and feats.dtype == np.float32
    logp, solved = feats[:, : 6 * t_a], feats[:, 6 * t_a:]
    assert (logp <= 0).all() and set(np.unique(solved)) <= {0.0, 1.0}
    chosen = probing_problems(CONFIG, 6, Probing.problem_seed)
    padding = (chosen.answer == 13).reshape(-1)  # past <EOS>: 0
    assert (logp[:, padding] == 0).all() and (logp[:, ~padding] < 0).all()

    permuted = permute_each(x, symmetry_spec(), np.random.default_rng(3))
    np.testing.assert_allclose(predictor.features(permuted, seq2seq_spec()), feats,
                               rtol=1e-5, atol=1e-5)
    module = predictor.module(seq2seq_spec())
    variables = module.init(jax.random.PRNGKey(0), feats)
    assert np.asarray(module.apply(variables, feats)).reshape(-1).shape == (3,)


def test_it_declares_it_reads_the_function():
    assert Probing.reads == "function" and Probing.name == "probing"
    with pytest.raises(ValueError, match="num_problems 0"):
        Probing(0)


def test_probegen_starts_from_real_training_problems_and_can_keep_them_fixed():
    from predictors.probegen import ProbeGen

    test, pool = problem_sets(CONFIG)
    predictor = ProbeGen()
    predictor.bind(CONFIG)
    x = random_weights(2)
    feats = predictor.features(x, seq2seq_spec())
    module = predictor.module(seq2seq_spec())
    variables = module.init(jax.random.PRNGKey(0), feats)
    probes = np.asarray(variables["params"]["probes"])
    t_q = 2 * CONFIG.max_digits + 2
    assert probes.shape == (32, t_q + CONFIG.max_digits + 2, 14)
    tokens = probes.argmax(-1)
    chosen = probing_problems(CONFIG, 32, module.probe_seed)
    np.testing.assert_array_equal(tokens[:, :t_q], chosen.question)
    np.testing.assert_array_equal(tokens[:, t_q:], chosen.decoder_input)
    test_questions = {tuple(q) for q in test.question.tolist()}
    assert not {tuple(q) for q in tokens[:, :t_q].tolist()} & test_questions

    def loss(params, fixed):
        predictor.learn_probes = not fixed
        net = predictor.module(seq2seq_spec())
        return net.apply({"params": params}, feats).sum()
    learned = jax.grad(loss)(variables["params"], False)["probes"]
    fixed = jax.grad(loss)(variables["params"], True)["probes"]
    assert np.abs(np.asarray(learned)).max() > 0 and np.abs(np.asarray(fixed)).max() == 0
    out = np.asarray(module.apply(variables, feats))
    permuted = permute_each(x, symmetry_spec(), np.random.default_rng(4))
    np.testing.assert_allclose(
        np.asarray(module.apply(variables, predictor.features(permuted, seq2seq_spec()))),
        out, rtol=1e-4, atol=1e-5)
