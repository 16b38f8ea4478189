"""The Small CNN Zoo as a second zoo family, checked end to end on the predictor side:
the CNN's true symmetry with a real forward pass, the UNF core's basis count and
parameter count on the CNN's spec (derived independently here), invariance of UNF (at
NFN's sizes) and ProbeGen on a CNN zoo, every built-in under the protocol on a small
imported zoo, what weight readers may declare, and the symmetry audit."""

from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks.audit import INVARIANCE_TOLERANCE, run_audit
from benchmarks.inputs import input_provider
from benchmarks.protocol import run_protocol
from benchmarks.protocol_config import ProtocolConfig
from predictors.base import Predictor
from predictors.mlp import MLP
from predictors.probegen import ProbeGen, ProbeGenNet
from predictors.references import HParams
from predictors.registry import BUILTINS, load_predictor
from predictors.unf import UNFLayer, count_basis_terms, match_spec, permute_each
from predictors.unf.plan import layer_plan
from predictors.unf_predictor import UNFNet, UNFPredictor
from tests.fixtures.cnn_fixture import write_published, write_split_file
from zoo_data.cnn.config import CATEGORICAL_HYPERPARAMETERS, NUMERIC_HYPERPARAMETERS
from zoo_data.cnn.importer import import_small_cnn_zoo
from zoo_data.cnn.layout import NUM_WEIGHTS, TENSORS, cnn_spec
from zoo_data.cnn.model import cnn_logits
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import family_of
from zoo_data.zoo import open_local_zoo

#: runs of the fixture zoo: 40 networks at the last checkpoint, NFN's split 16 / 4 / 20
RUNS = 40
ONE_EPOCH = ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None, batch_size=8)


@pytest.fixture(scope="module")
def cnn_zoo_dir(tmp_path_factory) -> Path:
    """A Small CNN Zoo imported from fixture files in the published layout (40 runs,
    NFN's split file format); tests must not modify it."""
    root = tmp_path_factory.mktemp("cnn")
    write_published(root / "src", runs=RUNS)
    write_split_file(root / "split.csv", RUNS * 9)
    out = root / "zoo"
    import_small_cnn_zoo(root / "src", "cifar10", out, split_file=str(root / "split.csv"),
                         group_size=16, progress=False)
    return out


@pytest.fixture(scope="module")
def cnn_zoo(cnn_zoo_dir):
    return open_local_zoo(cnn_zoo_dir)


def _nested(flat: dict) -> dict:
    out: dict = {}
    for path, value in flat.items():
        layer, name = path.split("/")
        out.setdefault(layer, {})[name] = value
    return out


def _random_params(rng: np.random.Generator, copies: int = 1) -> dict:
    """Random weights of the zoo's shapes, ``(copies, *shape)`` per tensor, at a scale
    that keeps the activations in the non-linear range."""
    flat = {}
    for path, shape in TENSORS.items():
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        std = 1.0 / math.sqrt(fan_in) if len(shape) > 1 else 0.3
        flat[path] = np.broadcast_to(rng.normal(0, std, shape).astype(np.float32),
                                     (copies, *shape)).copy()
    return _nested(flat)


def _take(tree, k: int):
    return jax.tree_util.tree_map(lambda x: jnp.asarray(x[k]), tree)


def _max_diff(a, b) -> float:
    return float(jnp.max(jnp.abs(jnp.asarray(a) - jnp.asarray(b))))


# -- 1. the CNN's symmetry, with a real forward pass ----------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_permuting_hidden_channels_keeps_the_cnns_function(activation):
    """``permute_each`` with ``cnn_spec()`` (several random permutations of c0, c1, c2)
    leaves ``cnn_logits`` unchanged to float tolerance; permuting a spatial axis of a
    kernel or the 10 classes (axes the spec leaves fixed) changes it, so the check
    can fail."""
    rng = np.random.default_rng(0)
    copies = 4
    params = _random_params(rng, copies)
    images = jnp.asarray(rng.normal(size=(6, 32, 32, 1)), jnp.float32)
    logits = jax.jit(lambda p, x: cnn_logits(p, x, activation))
    base = logits(_take(params, 0), images)
    assert base.shape == (6, 10)
    scale = float(jnp.max(jnp.abs(base)))
    spread = float(jnp.std(base))
    assert spread > 1e-2  # the logits vary: a difference would show

    permuted = permute_each(params, cnn_spec(), rng, trailing=0)
    for k in range(copies):
        one = _take(permuted, k)
        # the permutation is not the identity: the hidden kernels moved
        assert _max_diff(one["conv2d_1"]["kernel"], params["conv2d_1"]["kernel"][k]) > 1e-3
        assert _max_diff(logits(one, images), base) <= 1e-5 * max(scale, 1.0)

    # a spatial axis of conv2d_1's kernel (None in the spec): not a symmetry
    flipped = jax.tree_util.tree_map(lambda x: x, _take(params, 0))
    flipped["conv2d_1"]["kernel"] = flipped["conv2d_1"]["kernel"][::-1]
    assert _max_diff(logits(flipped, images), base) > 1e-2

    # the 10 classes (None in the spec): the logits come out permuted, not equal
    classes = rng.permutation(10)
    while (classes == np.arange(10)).all():
        classes = rng.permutation(10)
    relabelled = _take(params, 0)
    relabelled["dense"] = {"kernel": relabelled["dense"]["kernel"][:, classes],
                           "bias": relabelled["dense"]["bias"][classes]}
    out = logits(relabelled, images)
    assert _max_diff(out, base) > 1e-2
    np.testing.assert_allclose(out, base[:, classes], atol=1e-5 * max(scale, 1.0))

    # the hidden channels of one tensor only (not the same permutation everywhere)
    broken = _take(params, 0)
    broken["conv2d_1"] = {"kernel": broken["conv2d_1"]["kernel"][..., ::-1],
                          "bias": broken["conv2d_1"]["bias"]}
    assert _max_diff(logits(broken, images), base) > 1e-2


# -- 2. basis count and parameter count of a UNF layer on the CNN's spec -----------


def _bell(n: int) -> int:
    """Bell numbers by ``B(n+1) = sum_k C(n, k) B(k)`` (not the core's Bell triangle)."""
    b = [1]
    for m in range(n):
        b.append(sum(math.comb(m, k) * b[k] for k in range(m + 1)))
    return b[n]


def _labels(spec: dict) -> dict[str, tuple]:
    return {f"{layer}/{name}": labels for layer, tensors in spec.items()
            for name, labels in tensors.items()}


def _pair_terms(out_labels: tuple, in_labels: tuple) -> int:
    labels = {lab for lab in (*out_labels, *in_labels) if lab is not None}
    return math.prod(_bell(out_labels.count(lab) + in_labels.count(lab)) for lab in labels)


def _fold(path: str) -> int:
    """Positions of a tensor's ``None`` axes (1 if it has none)."""
    labels = _labels(cnn_spec())[path]
    return math.prod(n for n, lab in zip(TENSORS[path], labels, strict=True) if lab is None)


def test_bell_numbers_of_the_test():
    assert [_bell(n) for n in range(7)] == [1, 1, 2, 5, 15, 52, 203]


def test_basis_and_parameter_count_of_an_equivariant_layer_on_the_cnn_spec():
    """Derivation. An equivariant linear layer has, for every (output tensor l, input
    tensor m) pair, one basis term per *valid partition* of l's and m's permuted axes
    (blocks whose axes share a label), i.e. ``prod over labels L of Bell(a_L + b_L)``
    with ``a_L``/``b_L`` the number of axes labelled L in l/m. ``None`` axes (the
    kernels' 3x3 spatial axes, the image's input channel, the 10 classes) are not
    acted on and add no term; they are folded into channels (fold F = the number of
    their positions: 9 for a conv kernel, 10 for the dense kernel and bias, 1 else).

    Permuted labels: conv2d bias (c0), kernel (c0); conv2d_1 bias (c1), kernel
    (c0, c1); conv2d_2 bias (c2), kernel (c1, c2); dense bias (), kernel (c2).
    E.g. conv2d_1/kernel -> conv2d_1/kernel: Bell(2)*Bell(2) = 4; conv2d_2/kernel ->
    conv2d_1/kernel: c0 once, c1 twice, c2 once: 1*2*1 = 2; dense/bias -> anything: 1.

    Parameters (the layer's docstring: a term m -> l mixes ``F_m c_in`` channels into
    ``F_l c_out``; one bias per channel and fixed position of l):

        sum_{l,m} terms(l, m) F_m c_in F_l c_out + sum_l F_l c_out.
    """
    spec = cnn_spec()
    labels = _labels(spec)
    assert len(labels) == 8 and sum(math.prod(s) for s in TENSORS.values()) == NUM_WEIGHTS
    mine = {(o, i): _pair_terms(labels[o], labels[i]) for o in labels for i in labels}
    # a few pairs by hand (docstring)
    assert mine[("conv2d_1/kernel", "conv2d_1/kernel")] == 4
    assert mine[("conv2d_1/kernel", "conv2d_2/kernel")] == 2
    assert mine[("conv2d/kernel", "conv2d/bias")] == 2
    assert mine[("dense/bias", "conv2d_1/kernel")] == 1
    assert mine[("dense/kernel", "dense/kernel")] == 2
    total = sum(mine.values())
    # by hand, per output tensor (sum over the 8 inputs): conv2d bias 11, kernel 11,
    # conv2d_1 bias 11, kernel 15, conv2d_2 bias 11, kernel 15, dense bias 8, kernel 11
    assert total == 93

    # the core's public counts: per pair, and the plan a UNFLayer evaluates
    assert count_basis_terms(spec) == mine
    params = _nested({p: np.zeros(s, np.float32) for p, s in TENSORS.items()})
    plan = layer_plan(tuple(match_spec(spec, params)))
    assert plan.num_terms == total

    # the layer's parameter count, from flax's shapes (no compilation)
    for c_in, c_out in ((1, 16), (16, 5), (3, 2)):
        x = jax.tree_util.tree_map(lambda a, c=c_in: jnp.zeros((2, *a.shape, c)), params)
        shapes = jax.eval_shape(UNFLayer(spec, c_out).init, jax.random.PRNGKey(0), x)
        count = sum(math.prod(a.shape) for a in jax.tree_util.tree_leaves(shapes))
        expected = sum(t * _fold(i) * c_in * _fold(o) * c_out for (o, i), t in mine.items())
        expected += sum(_fold(o) * c_out for o in labels)
        assert count == expected, (c_in, c_out)


# -- 3. UNF (NFN's sizes) and ProbeGen on a CNN zoo are invariant --------------------


def _unf_param_counts(channels: tuple[int, ...], hidden: tuple[int, ...]) -> tuple[int, int]:
    """``(equivariant layers, head)`` parameters of UNFNet on the CNN spec, from the
    formula of the basis-count test and a plain MLP on the pooled features."""
    labels = _labels(cnn_spec())
    terms = {(o, i): _pair_terms(labels[o], labels[i]) for o in labels for i in labels}
    layers, c_in = 0, 1
    for c_out in channels:
        layers += sum(t * _fold(i) * c_in * _fold(o) * c_out for (o, i), t in terms.items())
        layers += sum(_fold(o) * c_out for o in labels)
        c_in = c_out
    # invariant pooling: mean over each tensor's permuted axes, fixed positions kept
    pooled = sum(_fold(p) for p in labels) * channels[-1]
    widths = (pooled, *hidden, 1)
    head = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return layers, head


def test_unf_at_nfns_sizes_is_invariant_on_a_cnn_zoo(cnn_zoo):
    predictor = UNFPredictor()
    predictor.bind(cnn_zoo.config)
    assert (predictor.channels, predictor.hidden) == ((16, 16, 5), (1000, 1000))
    module = predictor.module(cnn_zoo.spec)
    assert isinstance(module, UNFNet)
    ids = cnn_zoo.model_ids[:6]
    params = cnn_zoo.params(ids, channel_axis=True)
    variables = jax.jit(module.init)(jax.random.PRNGKey(0), params)

    # NFN-sized head: two hidden layers of 1,000 on the pooled (16 16 5) features
    layers, head = _unf_param_counts((16, 16, 5), (1000, 1000))
    count = lambda tree: sum(x.size for x in jax.tree_util.tree_leaves(tree))  # noqa: E731
    assert count(variables["params"]["head"]) == head == 1_253_001
    assert count(variables["params"]["unf"]) == layers
    assert count(variables) == layers + head

    apply = jax.jit(module.apply)
    base = np.asarray(apply(variables, params))
    assert base.shape == (6,) and np.isfinite(base).all() and np.ptp(base) > 1e-4
    rng = np.random.default_rng(3)
    for _ in range(3):
        permuted = permute_each(params, cnn_zoo.symmetry, rng)
        assert _max_diff(permuted["conv2d_1"]["kernel"], params["conv2d_1"]["kernel"]) > 0
        np.testing.assert_allclose(apply(variables, permuted), base,
                                   atol=1e-4 * max(1.0, np.abs(base).max()))
    # a spatial flip of a kernel is not a symmetry: the output moves
    flipped = jax.tree_util.tree_map(lambda x: x, params)
    flipped["conv2d_1"] = dict(flipped["conv2d_1"],
                               kernel=flipped["conv2d_1"]["kernel"][:, ::-1])
    assert np.abs(np.asarray(apply(variables, flipped)) - base).max() > 1e-3


def test_probegen_is_invariant_on_a_cnn_zoo(cnn_zoo):
    predictor = ProbeGen()
    predictor.bind(cnn_zoo.config)
    assert predictor.metadata_columns == ("activation",)
    module = predictor.module(cnn_zoo.spec)
    assert isinstance(module, ProbeGenNet) and module.network.probe_shape == (32, 32, 1)
    assert module.network.network_columns == ("activation",)
    assert dict(cnn_zoo.config.categories)["activation"] == ("relu", "tanh")
    train = cnn_zoo.with_split("train")
    ids = train.model_ids[:6]
    inputs = input_provider(predictor, train)

    def features(permute=None):
        return predictor.features(inputs.inputs(train, ids, permute=permute), train.spec)

    feats = features()
    assert set(feats) == {"params", "columns"} and set(feats["columns"]) == {"activation"}
    codes = feats["columns"]["activation"]
    assert sorted(set(codes.tolist())) == [0.0, 1.0]  # both activations
    variables = jax.jit(module.init)(jax.random.PRNGKey(0), feats)
    apply = jax.jit(module.apply)
    base = np.asarray(apply(variables, feats))
    assert base.shape == (6,) and np.isfinite(base).all() and np.ptp(base) > 1e-5
    rng = np.random.default_rng(5)
    for _ in range(3):
        np.testing.assert_allclose(apply(variables, features(rng)), base,
                                   atol=1e-4 * max(1.0, np.abs(base).max()))
    # the activation matters: swapping the codes changes the prediction
    swapped = dict(feats, columns={"activation": 1.0 - codes})
    assert np.abs(np.asarray(apply(variables, swapped)) - base).max() > 1e-6


def test_the_zoos_symmetry_is_the_cnn_spec(cnn_zoo):
    family = family_of(cnn_zoo.config)
    assert cnn_zoo.symmetry == cnn_zoo.spec == cnn_spec() == family.symmetry(cnn_zoo.config)
    assert cnn_zoo.tensor_shapes == TENSORS


def test_binding_to_a_tiny_rnn_zoo_after_a_cnn_zoo_forgets_the_cnns_settings(
        cnn_zoo, synthetic_zoo_master):
    """One predictor instance run on a CNN zoo and then on a Tiny RNN Zoo (as a user
    may, calling ``run_protocol`` twice) gets the RNN zoo's own settings: bind must set
    what it sets for a CNN zoo back for any other zoo."""
    rnn = open_local_zoo(synthetic_zoo_master, "train")
    probegen = ProbeGen()
    probegen.bind(cnn_zoo.config)
    probegen.bind(rnn.config)
    assert probegen.metadata_columns == ()
    input_provider(probegen, rnn)  # refused while 'activation' stays declared
    unf = UNFPredictor()
    unf.bind(cnn_zoo.config)
    unf.bind(rnn.config)
    assert (unf.channels, unf.hidden) == ((16, 16, 16), (512, 512))


# -- 4. every built-in under the protocol ---------------------------------------------


def _builtin_params():
    for name in BUILTINS:
        # UNF at NFN's sizes compiles for ~35 s on a CPU
        marks = [pytest.mark.slow] if name == "unf" else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", list(_builtin_params()))
def test_every_builtin_runs_on_a_cnn_zoo_or_is_refused(name, cnn_zoo):
    predictor, kind = load_predictor(name)
    assert kind == "builtin"
    if name in ("probe-oracle", "probing"):
        with pytest.raises(TinyZooError) as err:
            run_protocol(predictor, cnn_zoo, 0, ONE_EPOCH)
        message = str(err.value)
        assert "\n" not in message and message.startswith(f"{name}: ")
        assert "publishes no images" in message
        return
    result = run_protocol(predictor, cnn_zoo, 0, ONE_EPOCH)
    assert result.epochs_run == 1 and result.test["n"] == 20
    assert len(result.test_predicted) == 20 and np.isfinite(result.test_predicted).all()
    assert np.isfinite(result.train_loss_per_epoch).all() and result.param_count > 0
    for metric in ("r2", "mae"):
        assert np.isfinite(result.test[metric]), (name, result.test)
    if name == "constant":  # one prediction for every model: rank metrics undefined
        assert np.ptp(result.test_predicted) == 0 and np.isnan(result.test["kendall_tau"])
    else:
        assert np.isfinite(result.test["kendall_tau"]), (name, result.test)
        assert np.isfinite(result.test["spearman"]), (name, result.test)


def test_hparams_on_a_cnn_zoo_declares_its_hyperparameters(cnn_zoo):
    """Features (:func:`zoo_data.cnn.features.hyperparameter_features`): ``l, l², l³`` of the log
    learning rate, ``v, v², v l`` for each of the other 4 numeric hyperparameters, and
    for each categorical one its one-hot and one-hot times ``l``: 3 + 12 + 2 * (2
    activations + 1 b_init + 3 optimizers + 2 w_inits) = 31 on the fixture zoo."""
    predictor = HParams()
    predictor.bind(cnn_zoo.config)
    assert predictor.reads == "metadata"
    assert predictor.metadata_columns == (*NUMERIC_HYPERPARAMETERS,
                                          *CATEGORICAL_HYPERPARAMETERS)
    categories = dict(cnn_zoo.config.categories)
    assert {n: len(v) for n, v in categories.items()} == {
        "activation": 2, "b_init": 1, "optimizer": 3, "w_init": 2}
    expected = 3 + 3 * (len(NUMERIC_HYPERPARAMETERS) - 1) + 2 * sum(
        len(v) for v in categories.values())
    assert expected == 31
    train = cnn_zoo.with_split("train")
    input_provider(predictor, train)
    feats = predictor.features(train.columns(predictor.metadata_columns), train.spec)
    assert feats.shape == (len(train), expected) and np.isfinite(feats).all()
    # the one-hot blocks sum to one per categorical hyperparameter
    onehot = feats[:, 15:][:, ::2]
    assert onehot.sum(axis=1).tolist() == [len(categories)] * len(train)


class _Declares(Predictor):
    """A weight reader that declares a metadata column; records what it is given."""

    name = "declares"
    cache_features = True
    metadata_columns = ("learning_rate",)
    seen: list = []

    def features(self, inputs, spec):
        type(self).seen.append(inputs)
        params, columns = inputs
        w = params["conv2d_1"]["kernel"]
        scale = np.abs(np.asarray(w)).reshape(len(w), -1).mean(axis=1)
        return np.stack([scale, columns["activation"]], axis=1).astype(np.float32)

    def module(self, spec):
        return MLP(())


def test_weight_readers_may_declare_only_the_activation(cnn_zoo, synthetic_zoo_master):
    refused = _Declares()
    with pytest.raises(TinyZooError, match=r"declares metadata column 'learning_rate'"):
        input_provider(refused, cnn_zoo.with_split("train"))
    with pytest.raises(TinyZooError, match=r"'learning_rate'.*activation"):
        run_protocol(refused, cnn_zoo, 0, ONE_EPOCH)

    class Allowed(_Declares):
        metadata_columns = ("activation",)
        seen: list = []

    input_provider(Allowed(), cnn_zoo.with_split("train"))
    result = run_protocol(Allowed(), cnn_zoo, 0, ONE_EPOCH)
    assert np.isfinite(result.test["kendall_tau"])
    assert Allowed.seen  # the features were given (params, columns)
    for params, columns in Allowed.seen:
        n = len(params["conv2d_1"]["kernel"])
        assert params["conv2d_1"]["kernel"].shape == (n, 3, 3, 16, 16, 1)
        assert list(columns) == ["activation"] and columns["activation"].shape == (n,)
        assert set(columns["activation"].tolist()) <= {0.0, 1.0}

    # on a Tiny RNN Zoo no metadata column defines the network
    rnn = open_local_zoo(synthetic_zoo_master, "train")
    with pytest.raises(TinyZooError, match="nothing, on this zoo"):
        input_provider(Allowed(), rnn)


# -- 5. the symmetry audit --------------------------------------------------------------


@pytest.mark.parametrize("method", ["statnn",
                                    pytest.param("unf", marks=pytest.mark.slow)])
def test_the_symmetry_audit_passes_invariant_predictors_on_a_cnn_zoo(method, cnn_zoo_dir):
    predictor, audit = run_audit(method, cnn_zoo_dir, config=ONE_EPOCH, num_models=20)
    assert predictor.name == method
    assert audit["num_models"] == 20 and audit["num_permutations"] == 3
    assert audit["max_abs_diff"] < INVARIANCE_TOLERANCE == 1e-4


FLAT = '''
import flax.linen as nn
import numpy as np
from predictors.base import Predictor


class FlatKernel(Predictor):
    name = "flat-kernel"

    def features(self, params, spec):
        w = np.asarray(params["conv2d_1"]["kernel"])
        return w.reshape(len(w), -1) * 10.0

    def module(self, spec):
        return nn.Dense(1)
'''


def test_the_symmetry_audit_flags_a_reader_of_the_kernel_in_order(cnn_zoo_dir, tmp_path):
    """The audit can fail on this zoo: a predictor that reads conv2d_1's kernel in a
    fixed order sees the permuted copies as other networks."""
    path = tmp_path / "flat.py"
    path.write_text(FLAT)
    _, audit = run_audit(f"{path}:FlatKernel", cnn_zoo_dir, config=ONE_EPOCH,
                         num_models=20)
    assert audit["max_abs_diff"] > 100 * INVARIANCE_TOLERANCE
