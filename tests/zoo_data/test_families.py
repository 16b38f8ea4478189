"""Zoo families: the registry (names, order, errors, entry points) and what each built-in
family answers (:class:`zoo_data.families.base.ZooFamily`), checked against the
modules of its folder and against independent derivations."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.bare_family import BARE, BareConfig, BareZoo, register
from zoo_data.archive.card import dataset_card, size_category
from zoo_data.archive.layout import ZooLayout
from zoo_data.archive.splits import SPLIT_METHOD, check_split, split_record, split_sizes
from zoo_data.cnn import config as cnn_config
from zoo_data.cnn.config import CATEGORICAL_HYPERPARAMETERS, NUMERIC_HYPERPARAMETERS, CNNZooConfig
from zoo_data.cnn.family import SMALL_CNN_ZOO
from zoo_data.cnn.layout import TENSORS, cnn_spec
from zoo_data.common.fields import config_object, fingerprint
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import (
    CNN_FAMILY,
    RNN_FAMILY,
    config_from_dict,
    families,
    family_field,
    family_named,
    family_of,
    recorded_family,
)
from zoo_data.rnn.family import TINY_RNN_ZOO
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import PRESETS, ZooConfig
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec

ROOT = Path(__file__).resolve().parents[2]
TINY = PRESETS["tiny"]
MINI = PRESETS["mini"]  # checkpoints and four variations
CNN = CNNZooConfig(dataset="cifar10", checkpoint=86, split="nfn", num_models=40,
                   split_counts=(16, 4, 20), group_size=16,
                   categories=(("activation", ("relu", "tanh")), ("b_init", ("zeros",)),
                               ("optimizer", ("adam", "rmsprop", "sgd")),
                               ("w_init", ("glorot_normal", "he_normal"))))


# -- the registry -------------------------------------------------------------------

def test_the_built_in_families_in_board_order():
    assert list(families())[:2] == [RNN_FAMILY, CNN_FAMILY] == ["tiny-rnn-zoo", "small-cnn-zoo"]
    assert family_named(RNN_FAMILY) is TINY_RNN_ZOO and family_named(CNN_FAMILY) is SMALL_CNN_ZOO
    assert (TINY_RNN_ZOO.title, TINY_RNN_ZOO.paper_table) == ("Tiny RNN Zoo", "table1")
    assert (SMALL_CNN_ZOO.title, SMALL_CNN_ZOO.paper_table) == ("Small CNN Zoo", "table2")
    assert TINY_RNN_ZOO.label_name == "test success rate"
    assert SMALL_CNN_ZOO.label_name == "test accuracy"


def test_a_config_names_its_family():
    assert family_of(TINY) is TINY_RNN_ZOO and family_of(CNN) is SMALL_CNN_ZOO
    assert ZooConfig.family == RNN_FAMILY and CNNZooConfig.family == CNN_FAMILY
    assert isinstance(TINY, ZooConfigLike) and isinstance(CNN, ZooConfigLike)


def test_an_unknown_family_is_one_line_naming_the_known_ones():
    with pytest.raises(TinyZooError) as e:
        family_named("no-such-zoo")
    assert "\n" not in str(e.value) and "'no-such-zoo'" in str(e.value)
    assert RNN_FAMILY in str(e.value) and CNN_FAMILY in str(e.value)
    with pytest.raises(TinyZooError, match="'no-such-zoo' is not registered"):
        config_from_dict({**TINY.to_dict(), "family": "no-such-zoo"})
    with pytest.raises(TinyZooError, match="config.family 3: need a family name"):
        config_from_dict({**TINY.to_dict(), "family": 3})


def test_config_from_dict_dispatches_on_the_family_key():
    assert "family" not in TINY.to_dict()  # manifests stay as before families existed
    assert config_from_dict(TINY.to_dict()) == TINY
    assert config_from_dict({**TINY.to_dict(), "family": RNN_FAMILY}) == TINY
    assert CNN.to_dict()["family"] == CNN_FAMILY and config_from_dict(CNN.to_dict()) == CNN
    with pytest.raises(TinyZooError, match="config.family 'tiny-rnn-zoo': need "
                                           "'small-cnn-zoo'"):
        CNNZooConfig.from_dict({**CNN.to_dict(), "family": RNN_FAMILY})


@pytest.fixture
def plugins(monkeypatch):
    """``plugins(*(name, object))`` installs fake entry points; the registry is re-read."""
    yield lambda *found: register(monkeypatch, *found)
    families.cache_clear()


def test_a_written_block_names_its_family_unless_it_is_the_tiny_rnn_zoo():
    """Manifests' configs, records' zoo blocks and summaries written before families
    existed name none: they are the Tiny RNN Zoo's, and its blocks still name none."""
    assert recorded_family({}) == RNN_FAMILY
    assert recorded_family({"family": CNN_FAMILY}) == CNN_FAMILY
    assert family_field(RNN_FAMILY) == {}
    assert family_field(CNN_FAMILY) == {"family": CNN_FAMILY}


def test_an_entry_point_family_comes_after_the_built_ins(plugins):
    bare = BareZoo()
    plugins((BARE, bare))
    assert list(families()) == [RNN_FAMILY, CNN_FAMILY, BARE]
    assert family_named(BARE) is bare and family_of(BareConfig(**TINY.__dict__)) is bare
    # what a family need not answer has defaults that refuse nothing
    assert bare.symmetry(TINY) == bare.spec(TINY) and bare.network_columns(TINY) == ()
    assert bare.split_sizes(TINY) is None and bare.split_method(TINY) is None
    assert bare.training_groups(TINY) is None and bare.predictor_sizes(TINY) == {}
    assert bare.hyperparameters(TINY) is None and bare.probe_network(TINY) is None
    assert bare.fresh_problem_accuracy(TINY, 10, 0) is None
    assert bare.no_fresh_problems_reason() == "the Bare Zoo publishes no data to run its " \
                                              "networks on"
    assert bare.preset_rank("tiny") is None and bare.current_fingerprint("tiny") is None
    assert bare.published_results("paper") is None


def test_a_duplicate_or_misnamed_entry_point_is_refused(plugins):
    plugins(("tiny-rnn-zoo", BareZoo()))
    with pytest.raises(TypeError, match="family 'tiny-rnn-zoo' is already registered"):
        families()
    plugins(("other-name", BareZoo()))
    with pytest.raises(TypeError, match="the object's name is 'bare-zoo'"):
        families()
    plugins(("bare-zoo", object()))
    with pytest.raises(TypeError, match="is not a ZooFamily"):
        families()


def test_loading_the_families_imports_no_jax():
    code = ("import json, sys\nfrom zoo_data.families.registry import families, family_of\n"
            "from zoo_data.rnn.presets import PRESETS\nfamilies()\n"
            "family_of(PRESETS['tiny']).training_groups(PRESETS['tiny'])\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    loaded = {m.split(".")[0] for m in json.loads(out.stdout)}
    assert not loaded & {"jax", "flax", "optax", "zoo_builder", "predictors"}


# -- the Tiny RNN Zoo -------------------------------------------------------------------

def test_the_rnn_family_weight_space():
    assert TINY_RNN_ZOO.spec(TINY) == seq2seq_spec()
    assert TINY_RNN_ZOO.symmetry(TINY) == symmetry_spec() != seq2seq_spec()
    shapes = TINY_RNN_ZOO.tensor_shapes(TINY)
    assert len(shapes) == 22 and list(shapes) == sorted(shapes)
    h = TINY.hidden
    assert shapes["GRUCell_0/hn/kernel"] == (h, h) and shapes["GRUCell_0/ir/kernel"] == (14, h)
    assert shapes["DecoderGRUCell_0/Dense_0/bias"] == (14,)
    assert TINY_RNN_ZOO.network_columns(TINY) == ()


def test_the_rnn_family_columns():
    plain = list(TINY_RNN_ZOO.metadata_columns(TINY))
    assert plain == ["model_id", "group", "learning_rate", "batch_size", "steps", "seed",
                     "test_sr", "test_loss", "train_loss"]
    assert list(TINY_RNN_ZOO.metadata_columns(MINI)) == [
        *plain, "run_id", "step", "init_scale", "weight_decay", "adam_b1", "clip_norm"]


def test_the_rnn_family_splits_and_groups():
    assert TINY_RNN_ZOO.split_sizes(TINY) is None and TINY_RNN_ZOO.split_method(TINY) is None
    assert split_sizes(TINY) == split_sizes(TINY.num_models) == {"train": 19, "val": 2,
                                                                 "test": 3}
    assert split_record(TINY)["method"] == SPLIT_METHOD
    groups = TINY_RNN_ZOO.training_groups(TINY)
    assert groups == ZooLayout.of(TINY).groups
    assert sorted(i for g in groups for i in g.model_ids) == list(range(TINY.num_models))
    for g in groups:
        assert len(g.model_ids) <= TINY.group_size and g.model_ids == tuple(sorted(g.model_ids))
        assert {model_hparams(TINY, i).batch_size for i in g.model_ids} == {g.batch_size}


def test_the_rnn_family_card_parts():
    parts = TINY_RNN_ZOO.card(TINY, ZooLayout.of(TINY))
    assert (parts.license, parts.pretty_name) == ("cc-by-4.0", "Tiny RNN Zoo (tiny)")
    assert parts.tags[:3] == ("weight-space-learning", "model-zoo", "neural-network-weights")
    assert parts.body.startswith("\n# Tiny RNN Zoo (tiny preset)\n")
    card = dataset_card(TINY)
    assert card.endswith(parts.body) and "size_categories:\n- n<1K\n" in card
    assert "".join(f"\n- {t}" for t in parts.tags) in card


def test_the_rnn_family_hyperparameters():
    plain = TINY_RNN_ZOO.hyperparameters(TINY)
    assert plain.columns == ("learning_rate", "batch_size")
    lr, bs = np.array([1e-3, 1e-2]), np.array([64.0, 256.0])
    feats = plain.encode({"learning_rate": lr, "batch_size": bs})
    x, y = np.log(lr), np.log(bs)
    np.testing.assert_allclose(feats, np.stack([x, x**2, x**3, y, y**2, x * y], 1), rtol=1e-6)
    assert feats.dtype == np.float32
    mini = TINY_RNN_ZOO.hyperparameters(MINI)
    assert mini.columns == ("learning_rate", "batch_size", *MINI.varied, "step")
    columns = {name: np.array([0.5, 0.9]) for name in mini.columns}
    columns["step"] = np.array([750.0, 1000.0])
    # 6 + 3 per variation + 4 step terms + 1 per variation times step
    assert mini.encode(columns).shape == (2, 6 + 3 * 4 + 4 + 4)
    assert TINY_RNN_ZOO.predictor_sizes(TINY) == {}


def test_the_rnn_family_runs_its_networks():
    import jax

    from zoo_data.rnn.model import init_params

    weights = init_params(TINY.hidden, 14, jax.random.PRNGKey(0))["params"]
    network = TINY_RNN_ZOO.probe_network(TINY)
    d = TINY.max_digits
    # a question (2 d + 2 tokens) and a decoder input (d + 2) per probe
    assert network.probe_shape == (2 * d + 2 + d + 2, 14) and network.network_columns == ()
    probes = jax.random.normal(jax.random.PRNGKey(1), (5, *network.probe_shape))
    out = np.asarray(network.respond(weights, probes, {}))
    assert out.shape == (5, d + 2, 14)
    np.testing.assert_allclose(np.exp(out).sum(-1), 1.0, rtol=1e-5)  # log-probabilities
    start = network.initial_probes(5, 0)  # real training-pool problems, one-hot logits
    assert start.shape == (5, *network.probe_shape) and set(np.unique(start)) == {0.0, 5.0}
    accuracy = TINY_RNN_ZOO.fresh_problem_accuracy(TINY, 16, 7)
    assert 0.0 <= float(accuracy(weights)) <= 1.0


# -- the Small CNN Zoo ------------------------------------------------------------------

def test_the_cnn_family_weight_space_and_columns():
    assert SMALL_CNN_ZOO.spec(CNN) == SMALL_CNN_ZOO.symmetry(CNN) == cnn_spec()
    assert SMALL_CNN_ZOO.tensor_shapes(CNN) == TENSORS
    assert SMALL_CNN_ZOO.metadata_columns(CNN) == cnn_config.METADATA_COLUMNS
    assert SMALL_CNN_ZOO.network_columns(CNN) == ("activation",)
    assert SMALL_CNN_ZOO.category_codes(CNN, "activation") == {"relu": 0, "tanh": 1}
    assert SMALL_CNN_ZOO.category_codes(CNN, "learning_rate") is None
    assert TINY_RNN_ZOO.category_codes(TINY, "batch_size") is None


def test_the_cnn_family_splits_groups_and_card():
    assert SMALL_CNN_ZOO.split_sizes(CNN) == split_sizes(CNN) == {"train": 16, "val": 4,
                                                                  "test": 20}
    assert split_record(CNN)["method"] == SMALL_CNN_ZOO.split_method(CNN)
    assert split_record(CNN)["method"].startswith("NFN's split of cifar10")
    assert SMALL_CNN_ZOO.training_groups(CNN) is None
    groups = ZooLayout.of(CNN).groups  # chunks of group_size ids, batch size 0
    assert [g.model_ids for g in groups] == [tuple(range(0, 16)), tuple(range(16, 32)),
                                             tuple(range(32, 40))]
    assert {g.batch_size for g in groups} == {0}
    parts = SMALL_CNN_ZOO.card(CNN, ZooLayout.of(CNN))
    assert parts.pretty_name == "Small CNN Zoo, CIFAR-10-GS (small-cnn-cifar10)"
    assert parts.tags[-1] == "cnn" and parts.body.startswith("\n# Small CNN Zoo: CIFAR-10-GS")
    card = dataset_card(CNN)
    assert card.endswith(parts.body)
    assert "size_categories:\n- n<1K\n" in card  # computed, not a fixed 10K<n<100K
    assert size_category(30_000) == "10K<n<100K"


def test_the_cnn_family_predictor_answers():
    assert SMALL_CNN_ZOO.predictor_sizes(CNN) == {
        "unf": {"channels": (16, 16, 5), "hidden": (1000, 1000)}}
    hp = SMALL_CNN_ZOO.hyperparameters(CNN)
    assert hp.columns == (*NUMERIC_HYPERPARAMETERS, *CATEGORICAL_HYPERPARAMETERS)
    columns = {name: np.array([1e-3, 0.1]) for name in NUMERIC_HYPERPARAMETERS}
    columns.update({name: np.array([0.0, 0.0]) for name in CATEGORICAL_HYPERPARAMETERS})
    assert hp.encode(columns).shape == (2, 3 + 3 * 4 + 2 * (2 + 1 + 3 + 2))
    assert SMALL_CNN_ZOO.fresh_problem_accuracy(CNN, 10, 0) is None
    assert SMALL_CNN_ZOO.no_fresh_problems_reason() == "the Small CNN Zoo publishes no images"


def test_what_each_family_tells_the_board():
    """Preset order, the current config of a preset (older zoos) and published figures."""
    assert [TINY_RNN_ZOO.preset_rank(p) for p in PRESETS] == list(range(len(PRESETS)))
    assert TINY_RNN_ZOO.preset_rank("small-cnn-cifar10") is None
    assert TINY_RNN_ZOO.current_fingerprint("mini") == MINI.fingerprint()
    assert TINY_RNN_ZOO.current_fingerprint("nope") is None
    table1 = TINY_RNN_ZOO.published_results("paper")
    assert (table1.label, table1.row_prefix) == (None, "paper-")
    assert dict(table1.rows) == {"STATNN": (0.8839, 0.0007), "UNF": (0.8968, 0.0006),
                                 "Deep Sets": (0.8306, None)}
    assert table1.source.startswith("Table 1 of Zhou et al. (2024)")
    assert TINY_RNN_ZOO.published_results("mini") is None
    ranks = {p: SMALL_CNN_ZOO.preset_rank(p) for p in (
        "small-cnn-cifar10", "small-cnn-cifar10-runs", "small-cnn-svhn_cropped",
        "small-cnn-mnist-runs", "small-cnn-fashion_mnist-runs")}
    assert list(ranks.values()) == [0, 1, 2, 5, 7]
    assert SMALL_CNN_ZOO.preset_rank(CNN.preset) == 0 and SMALL_CNN_ZOO.preset_rank("paper") is None
    assert SMALL_CNN_ZOO.current_fingerprint(CNN.preset) is None  # imported: never older
    nfn = SMALL_CNN_ZOO.published_results("small-cnn-svhn_cropped")
    assert (nfn.label, nfn.row_prefix) == ("NFN paper, Table 2", "nfn-paper-")
    assert dict(nfn.rows) == {"NFN-HNP": (0.931, 0.005), "NFN-NP": (0.856, 0.001),
                              "STATNN": (0.843, 0.0)}
    assert "Small CNN Zoo's svhn_cropped networks with NFN's split" in nfn.source
    assert SMALL_CNN_ZOO.published_results("small-cnn-svhn_cropped-runs") is None
    assert SMALL_CNN_ZOO.published_results("small-cnn-mnist") is None
    with pytest.raises(TypeError):
        table1.rows["UNF"] = (1.0, None)  # the figures are read-only


def test_the_cnn_family_runs_a_network_under_its_own_activation():
    import jax

    from zoo_data.cnn.model import cnn_logits

    network = SMALL_CNN_ZOO.probe_network(CNN)
    assert network.probe_shape == (32, 32, 1) and network.network_columns == ("activation",)
    rng = np.random.default_rng(0)
    weights = {layer: {"kernel": rng.normal(0, 0.3, shape).astype(np.float32),
                       "bias": rng.normal(0, 0.3, shape[-1:]).astype(np.float32)}
               for layer, shape in (("conv2d", (3, 3, 1, 16)), ("conv2d_1", (3, 3, 16, 16)),
                                    ("conv2d_2", (3, 3, 16, 16)), ("dense", (16, 10)))}
    probes = rng.normal(0, 1, (4, 32, 32, 1)).astype(np.float32)
    for code, name in enumerate(("relu", "tanh")):
        out = network.respond(weights, probes, {"activation": np.float32(code)})
        np.testing.assert_allclose(out, jax.nn.softmax(cnn_logits(weights, probes, name)),
                                   rtol=1e-6)
    mnist = dataclasses.replace(CNN, dataset="mnist")
    assert SMALL_CNN_ZOO.probe_network(mnist).probe_shape == (28, 28, 1)
    odd = dataclasses.replace(CNN, categories=(*((n, v) for n, v in CNN.categories
                                                 if n != "activation"),
                                               ("activation", ("swish",))))
    with pytest.raises(TinyZooError, match="activation 'swish'"):
        SMALL_CNN_ZOO.probe_network(odd)


# -- rules with one owner ---------------------------------------------------------------

def test_an_unknown_split_is_one_tinyzooerror_a_valueerror():
    assert check_split("val") == "val"
    for bad in ("validation", "dev", None, 3):
        with pytest.raises(TinyZooError, match=r"unknown split .*; choose one of train, val, "
                                               "test") as e:
            check_split(bad)
        assert isinstance(e.value, ValueError) and "\n" not in str(e.value)


def test_config_fingerprints_and_opening_checks_have_one_owner():
    for config in (*PRESETS.values(), CNN):
        blob = json.dumps(config.to_dict(), sort_keys=True).encode()
        assert config.fingerprint() == fingerprint(config.to_dict()) == \
            hashlib.sha256(blob).hexdigest()[:16]
    for d, message in ((3, "config 3: need a JSON object"),
                       ({"x": 1}, "config: unknown key 'x'"),
                       ({"family": "b"}, "config.family 'b': need 'a'"),
                       ({"n": 1}, "config: missing key 'm'")):
        with pytest.raises(TinyZooError, match=f"^{message}$"):
            config_object(d, ("n", "m"), ("n", "m"), "a", False)
    assert config_object({"family": "a", "n": 1}, ("n",), ("n",), "a", True) == {"n": 1}
    with pytest.raises(TinyZooError, match="config.family None: need 'a'"):
        config_object({"n": 1}, ("n",), ("n",), "a", True)
