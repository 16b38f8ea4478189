"""The reference predictors and ProbeGen: what they read, the oracle's problems, and
ProbeGen's invariance (by construction) and bitwise-reproducible training."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from benchmarks import ProtocolConfig, run_protocol
from predictors.probegen import ProbeGen
from predictors.references import HParams, ProbeOracle, TrainLoss
from predictors.unf import permute_each
from tests.predictors.helpers import H, random_weights
from zoo_data.rnn.hparams import HYPERPARAMETERS
from zoo_data.rnn.model import Seq2Seq, greedy_success
from zoo_data.rnn.presets import ZooConfig, problem_sets
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec
from zoo_data.rnn.task import VOCAB_SIZE

CONFIG = ZooConfig("ref-test", num_models=30, hidden=H, max_digits=1, steps=10, n_test=20,
                   n_train_pool=60, group_size=8)


def test_references_declare_what_they_read():
    assert HParams.reads == TrainLoss.reads == "metadata"
    hparams = HParams()
    hparams.bind(CONFIG)  # a zoo without variations or checkpoints
    assert hparams.metadata_columns == HYPERPARAMETERS == ("learning_rate", "batch_size")
    assert TrainLoss.metadata_columns == ("train_loss",)
    assert ProbeOracle.reads == "function" and ProbeGen.reads == "weights"


def test_hparams_features_are_the_cubic_in_log_lr_and_log_batch():
    columns = {"learning_rate": np.array([1e-3, 1e-2]), "batch_size": np.array([64.0, 256.0])}
    hparams = HParams()
    hparams.bind(CONFIG)
    feats = hparams.features(columns, None)
    lr, bs = np.log(columns["learning_rate"]), np.log(columns["batch_size"])
    np.testing.assert_allclose(feats, np.stack([lr, lr**2, lr**3, bs, bs**2, lr * bs], 1),
                               rtol=1e-6)


def test_the_oracle_runs_each_model_on_training_pool_problems():
    oracle = ProbeOracle(num_problems=25)
    oracle.bind(CONFIG)
    params = random_weights(3, seed=4)
    acc = oracle.features(params, seq2seq_spec())
    assert acc.shape == (3, 1) and np.all((acc >= 0) & (acc <= 1))
    # the same problems, by hand: drawn from the training pool, never the test set
    test, pool = problem_sets(CONFIG)
    rng = np.random.default_rng([CONFIG.seed, ProbeOracle.problem_seed])
    pick = rng.integers(0, len(pool), 25)
    test_rows = {tuple(q) for q in test.question}
    assert not {tuple(q) for q in pool.question[pick]} & test_rows
    model = Seq2Seq(H, VOCAB_SIZE)
    for k in range(3):
        one = jax.tree_util.tree_map(lambda x, k=k: x[k, ..., 0], params)
        expected = np.mean(greedy_success(model, one, pool.question[pick], pool.answer[pick]))
        assert acc[k, 0] == pytest.approx(expected)
    # function of the network only: a hidden permutation changes nothing
    permuted = permute_each(params, symmetry_spec(), np.random.default_rng(0))
    np.testing.assert_array_equal(oracle.features(permuted, seq2seq_spec()), acc)


def test_probegen_is_invariant_to_hidden_permutations_and_trains_its_probes():
    predictor = ProbeGen()
    predictor.bind(CONFIG)
    module = predictor.module(seq2seq_spec())
    params = random_weights(4, seed=1)
    # compiled: the probe network's many small ops take longer op by op
    variables = jax.jit(module.init)(jax.random.PRNGKey(0), params)
    apply = jax.jit(module.apply)
    out = np.asarray(apply(variables, params))
    permuted = permute_each(params, symmetry_spec(), np.random.default_rng(3))
    np.testing.assert_allclose(np.asarray(apply(variables, permuted)), out,
                               rtol=1e-5, atol=1e-6)
    grads = jax.jit(jax.grad(lambda v: module.apply(v, params).sum()))(variables)
    assert float(np.abs(grads["params"]["probes"]).max()) > 0
    # a question (4 tokens) and a decoder input (3) per probe
    assert variables["params"]["probes"].shape == (32, 4 + 3, VOCAB_SIZE)


def test_probegen_training_is_bitwise_reproducible(synthetic_zoo_master):
    config = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)
    a = run_protocol(ProbeGen(), synthetic_zoo_master, 0, config)
    b = run_protocol(ProbeGen(), synthetic_zoo_master, 0, config)
    assert a.test_predicted.tobytes() == b.test_predicted.tobytes()
    assert a.val_tau_per_epoch == b.val_tau_per_epoch
    for x, y in zip(jax.tree_util.tree_leaves(a.trained.variables),
                    jax.tree_util.tree_leaves(b.trained.variables), strict=True):
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes()


@pytest.mark.parametrize("cls", [TrainLoss, ProbeOracle])
def test_monotone_references_learn_the_direction_from_the_data(cls, synthetic_zoo_master):
    """Whatever the seed, the one-feature references rank in the direction the train
    split shows (their weight starts at 0), so seeds agree on the sign."""
    config = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)
    signs = {np.sign(run_protocol(cls(), synthetic_zoo_master, seed, config)
                     .trained.variables["params"]["kernel"].item()) for seed in range(4)}
    assert len(signs) == 1 and 0 not in signs
