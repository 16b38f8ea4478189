"""Built-in predictors: shapes, symmetry (invariance under the GRU's hidden-unit
permutations; Deep Sets under any permutation of each tensor's entries), STATNN
features against numpy, the registry and user predictor files."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.traverse_util import flatten_dict, unflatten_dict

from predictors.baselines import Constant, LinearStats
from predictors.deep_sets import DeepSets
from predictors.registry import BUILTINS, load_predictor
from predictors.statnn import STATNN, weight_statistics
from predictors.unf import permute_each
from predictors.unf_predictor import UNFPredictor
from tests.predictors.helpers import H, random_weights
from zoo_data.errors import TinyZooError
from zoo_data.rnn.model import Seq2Seq
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec
from zoo_data.rnn.task import VOCAB_SIZE


def _init_and_apply(module, cls):
    """``module``'s init and apply, compiled for the UNF (its many small ops run op by op
    take longer than compiling), op by op for the others (Deep Sets compiles slowly)."""
    if cls is UNFPredictor:
        return jax.jit(module.init), jax.jit(module.apply)
    return module.init, module.apply


@pytest.mark.parametrize("cls", [UNFPredictor, STATNN, DeepSets, LinearStats, Constant])
def test_builtins_give_one_logit_per_model_and_are_invariant(cls):
    predictor = cls()
    spec = seq2seq_spec()
    x = random_weights(3)
    feats = predictor.features(x, spec)
    module = predictor.module(spec)
    init, apply = _init_and_apply(module, cls)
    variables = init(jax.random.PRNGKey(1), feats)
    out = np.asarray(apply(variables, feats)).reshape(-1)
    assert out.shape == (3,) and np.all(np.isfinite(out))
    permuted = permute_each(x, symmetry_spec(), np.random.default_rng(2))
    out_p = np.asarray(apply(variables, predictor.features(permuted, spec))).reshape(-1)
    np.testing.assert_allclose(out_p, out, rtol=1e-4, atol=1e-5)


def test_permuting_hidden_units_keeps_the_zoo_models_function():
    """The augmentation and the audit rely on this: a hidden permutation of a GRU
    seq2seq model computes the same logits."""
    x = random_weights(2, seed=5)
    permuted = permute_each(x, symmetry_spec(), np.random.default_rng(0))
    model = Seq2Seq(H, VOCAB_SIZE)
    rng = np.random.default_rng(1)
    question = jnp.asarray(np.eye(VOCAB_SIZE)[rng.integers(0, VOCAB_SIZE, (5, 4))])
    answer = jnp.asarray(np.eye(VOCAB_SIZE)[rng.integers(0, VOCAB_SIZE, (5, 3))])
    for k in range(2):
        a = jax.tree_util.tree_map(lambda t, k=k: jnp.asarray(t[k, ..., 0]), x)
        b = jax.tree_util.tree_map(lambda t, k=k: jnp.asarray(t[k, ..., 0]), permuted)
        assert not np.allclose(a["GRUCell_0"]["hn"]["kernel"], b["GRUCell_0"]["hn"]["kernel"])
        np.testing.assert_allclose(model.apply({"params": b}, question, answer),
                                   model.apply({"params": a}, question, answer),
                                   rtol=1e-5, atol=1e-6)
    # vocabulary axes stay fixed: the input kernels' rows keep their order up to columns
    assert symmetry_spec()["GRUCell_0"]["ir"]["kernel"] == (None, "hidden")


def test_deep_sets_is_invariant_to_any_entry_permutation_but_unf_is_not():
    spec = seq2seq_spec()
    x = random_weights(2)
    rng = np.random.default_rng(3)
    flat = flatten_dict(x, sep="/")
    shuffled = {}
    for path, leaf in flat.items():
        b = leaf.shape[0]
        entries = leaf.reshape(b, -1, 1)
        shuffled[path] = entries[:, rng.permutation(entries.shape[1])].reshape(leaf.shape)
    shuffled = unflatten_dict({tuple(k.split("/")): v for k, v in shuffled.items()})
    outputs = {}
    for cls in (DeepSets, UNFPredictor):
        init, apply = _init_and_apply(cls().module(spec), cls)
        variables = init(jax.random.PRNGKey(0), x)
        outputs[cls.name] = (np.asarray(apply(variables, x)),
                             np.asarray(apply(variables, shuffled)))
    np.testing.assert_allclose(*outputs["deep-sets"], rtol=1e-4, atol=1e-5)
    assert not np.allclose(*outputs["unf"], rtol=1e-3, atol=1e-4)


def test_statnn_features_are_the_documented_statistics():
    x = random_weights(2)
    feats = weight_statistics(x)
    flat = flatten_dict(x, sep="/")
    assert feats.shape == (2, 7 * 22)
    path = sorted(flat)[3]
    w = flat[path][1].reshape(-1).astype(np.float64)
    expected = [w.mean(), w.var(), *np.quantile(w, [0, 0.25, 0.5, 0.75, 1])]
    np.testing.assert_allclose(feats[1, 3 * 7 : 4 * 7], expected, rtol=1e-5, atol=1e-7)


def test_statnn_and_unf_have_the_documented_architecture():
    spec = seq2seq_spec()
    x = random_weights(1)
    # the parameters' shapes, without computing them
    v = jax.eval_shape(STATNN().module(spec).init, jax.random.PRNGKey(0), weight_statistics(x))
    kernels = [k.shape for k in jax.tree_util.tree_leaves(v) if k.ndim == 2]
    assert kernels == [(154, 600)] + [(600, 600)] * 4 + [(600, 1)]
    v = jax.eval_shape(UNFPredictor().module(spec).init, jax.random.PRNGKey(0), x)
    head = [k.shape for k in jax.tree_util.tree_leaves(v["params"]["head"])]
    assert sorted(head) == sorted([(512,), (22 * 16, 512), (512,), (512, 512), (1,), (512, 1)])
    assert len(v["params"]["unf"]) == 3


def test_registry_and_user_files(tmp_path):
    assert list(BUILTINS) == ["unf", "statnn", "deep-sets", "probegen", "probing",
                             "linear-stats", "constant", "hparams", "train-loss",
                             "probe-oracle"]
    predictor, kind = load_predictor("statnn")
    assert isinstance(predictor, STATNN) and kind == "builtin"
    user = tmp_path / "mine.py"
    user.write_text(
        "import flax.linen as nn\nfrom predictors.base import Predictor\n"
        "class Mine(Predictor):\n    name = 'mine'\n"
        "    def module(self, spec):\n        return nn.Dense(1)\n"
        "class Unnamed(Predictor):\n    def module(self, spec):\n        return nn.Dense(1)\n")
    predictor, kind = load_predictor(f"{user}:Mine")
    assert predictor.name == "mine" and kind == "user"
    with pytest.raises(TinyZooError, match="unknown method 'nope'"):
        load_predictor("nope")
    with pytest.raises(TinyZooError, match="no such predictor file"):
        load_predictor(str(tmp_path / "missing.py") + ":X")
    with pytest.raises(TinyZooError, match="no Predictor subclass named 'Other'"):
        load_predictor(f"{user}:Other")
    with pytest.raises(TinyZooError, match="set the class attribute name"):
        load_predictor(f"{user}:Unnamed")
    broken = tmp_path / "broken.py"
    broken.write_text("import not_a_module_at_all\n")
    with pytest.raises(TinyZooError, match="cannot import"):
        load_predictor(f"{broken}:X")
