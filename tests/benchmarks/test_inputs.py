"""The input providers (:mod:`benchmarks.inputs`): one per ``reads`` value, each handing a
predictor exactly what it declared and never a label; a metadata reader never sees a
weight; the protocol asks for a predictor's inputs once per run, and the batches and
permutations follow the generator's draws in the protocol's order."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import benchmarks.protocol as protocol
from benchmarks import ProtocolConfig, run_protocol
from benchmarks.audit import audit_predictor
from benchmarks.inputs import (
    PROVIDERS,
    FunctionInputs,
    MetadataInputs,
    WeightInputs,
    input_provider,
    provider_class,
)
from predictors.base import READS, Predictor
from predictors.mlp import MLP
from predictors.statnn import STATNN
from predictors.unf import permute_each
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Columns, Zoo, open_local_zoo

FAST = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)


class _Reader(Predictor):
    """A predictor of any declaration, for the providers alone (never trained)."""

    name = "reader"

    def module(self, spec):
        return MLP(())


def _predictor(reads: str, columns: tuple[str, ...] = ()) -> Predictor:
    return type("Declared", (_Reader,), {"reads": reads, "metadata_columns": columns})()


@pytest.fixture
def no_labels(monkeypatch):
    """Every way of reading labels from a :class:`Zoo` fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a provider read labels")

    monkeypatch.setattr(Zoo, "labels", property(refuse))
    monkeypatch.setattr(Zoo, "metadata", property(refuse))
    monkeypatch.setattr(Zoo, "batches", refuse)


def _same_tree(a, b) -> bool:
    return (jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
            and all(np.array_equal(x, y) for x, y in
                    zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b),
                        strict=True)))


def test_there_is_one_provider_per_reads_value():
    assert set(PROVIDERS) == set(READS)
    assert [PROVIDERS[r].reads for r in READS] == list(READS)
    assert (PROVIDERS["weights"], PROVIDERS["function"], PROVIDERS["metadata"]) == (
        WeightInputs, FunctionInputs, MetadataInputs)
    assert WeightInputs.holds_weights and FunctionInputs.holds_weights
    assert not MetadataInputs.holds_weights


@pytest.mark.parametrize("reads", ["weights", "function"])
def test_weight_and_function_readers_get_the_weights_alone(bench_zoo_dir, no_labels, reads):
    train = open_local_zoo(bench_zoo_dir, "train")
    provider = input_provider(_predictor(reads), train)
    assert type(provider) is PROVIDERS[reads]
    ids = train.model_ids[[5, 0, 17]]
    expected = train.params(ids, channel_axis=True)
    got = provider.inputs(train, ids)
    assert isinstance(got, dict) and _same_tree(got, expected)
    leaf = jax.tree_util.tree_leaves(got)[0]
    assert leaf.shape[0] == 3 and leaf.shape[-1] == 1 and leaf.dtype == np.float32
    batches = list(provider.batches(train, 10))
    assert [len(ids) for ids, _ in batches] == [10, 10, 10, 10, 8]
    assert np.array_equal(np.concatenate([ids for ids, _ in batches]), train.model_ids)
    for ids, inputs in batches:
        assert _same_tree(inputs, train.params(ids, channel_axis=True))


def test_a_metadata_reader_gets_its_columns_and_never_a_weight(bench_zoo_dir, no_labels,
                                                                monkeypatch):
    def no_weights(*_args, **_kwargs):
        raise AssertionError("a metadata reader was given weights")

    monkeypatch.setattr(Zoo, "params", no_weights)
    monkeypatch.setattr(Zoo, "tensors", no_weights)
    val = open_local_zoo(bench_zoo_dir, "val")
    provider = input_provider(_predictor("metadata", ("learning_rate", "train_loss")), val)
    assert type(provider) is MetadataInputs
    got = provider.inputs(val, val.model_ids[:4])
    assert isinstance(got, Columns) and list(got) == ["learning_rate", "train_loss"]
    assert got["learning_rate"].shape == (4,) and got["learning_rate"].dtype == np.float64
    with pytest.raises(TinyZooError, match="reads metadata column 'test_sr', which it did "
                                           "not declare"):
        got["test_sr"]
    batches = list(provider.batches(val, 4))
    assert np.array_equal(np.concatenate([ids for ids, _ in batches]), val.model_ids)
    assert all(list(columns) == ["learning_rate", "train_loss"] for _, columns in batches)
    with pytest.raises(TinyZooError, match="reads metadata only, no weights; nothing to "
                                           "permute"):
        provider.inputs(val, val.model_ids[:2], permute=np.random.default_rng(0))


def test_batches_follow_the_generators_draws_order_first_then_permutations(bench_zoo_dir):
    """The protocol's augmented epoch: the order is drawn from the generator when the
    first batch is asked for, then each batch's permutations, batch after batch."""
    train = open_local_zoo(bench_zoo_dir, "train")
    provider = input_provider(_predictor("weights"), train)
    drawn = np.random.default_rng([3, 1])
    got = list(provider.batches(train, 8, shuffle=True, seed=drawn, permute=drawn))
    rng = np.random.default_rng([3, 1])
    expected = [(ids, permute_each(train.params(ids, channel_axis=True), train.symmetry, rng))
                for ids in train.batch_ids(8, shuffle=True, seed=rng)]
    assert len(got) == len(expected) == 6
    for (ids, inputs), (want_ids, want) in zip(got, expected, strict=True):
        assert np.array_equal(ids, want_ids) and _same_tree(inputs, want)
    assert not np.array_equal(np.concatenate([ids for ids, _ in got]), train.model_ids)


@pytest.mark.parametrize("predictor, message", [
    (_predictor("telepathy"), "reader: reads 'telepathy'; declare one of weights, "
                              "metadata, function"),
    (_predictor("metadata"), "reader: reads metadata but declares no metadata_columns"),
    (_predictor("metadata", ("test_sr",)), "reader: declares metadata column 'test_sr', "
                                           "which is measured on the test problems"),
    (_predictor("metadata", ("depth",)), "reader: declares metadata column 'depth', which "
                                         "the zoo at"),
    (_predictor("weights", ("learning_rate",)), "reader: reads weights but declares metadata "
                                                "column 'learning_rate'; a weight or function "
                                                "reader may declare only what defines the "
                                                "network (nothing, on this zoo)"),
    (_predictor("function", ("train_loss",)), "reader: reads function but declares metadata "
                                              "column 'train_loss'"),
])
def test_a_bad_declaration_is_refused_with_one_line(bench_zoo_dir, predictor, message):
    zoo = open_local_zoo(bench_zoo_dir, "train")
    with pytest.raises(TinyZooError) as err:
        input_provider(predictor, zoo)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_provider_of_one_kind_refuses_another_declaration(bench_zoo_dir):
    zoo = open_local_zoo(bench_zoo_dir)
    with pytest.raises(TinyZooError, match="reader: reads 'weights', not 'metadata'"):
        MetadataInputs(_predictor("weights"), zoo)
    assert provider_class(_predictor("function")) is FunctionInputs


def test_a_provider_reads_only_the_zoo_it_was_checked_on(bench_zoo_dir, twin_zoo_dir):
    provider = input_provider(_predictor("weights"), open_local_zoo(bench_zoo_dir, "train"))
    again = open_local_zoo(bench_zoo_dir, "test")  # the same zoo, opened anew: served
    assert len(list(provider.batches(again, 50))) == 1
    twin = open_local_zoo(twin_zoo_dir, "test")
    with pytest.raises(TinyZooError, match="reader: its inputs were checked on the zoo at"):
        provider.inputs(twin, twin.model_ids)


def test_the_protocol_asks_for_the_inputs_once_per_run(bench_zoo_dir, monkeypatch):
    made = []

    def counted(predictor, zoo):
        made.append(predictor.name)
        return input_provider(predictor, zoo)

    monkeypatch.setattr(protocol, "input_provider", counted)
    zoo = open_local_zoo(bench_zoo_dir)
    result = run_protocol(STATNN(), zoo, 0, FAST)
    assert made == ["statnn"]
    audit = audit_predictor(result.trained, zoo.with_split("test"), num_models=4)
    assert made == ["statnn"] and audit["num_models"] == 4  # the run's provider


def test_the_audit_of_a_metadata_reader_is_none(bench_zoo_dir):
    class Rates(_Reader):
        name = "rates"
        reads = "metadata"
        metadata_columns = ("learning_rate",)
        cache_features = True

        def features(self, columns, spec):
            return np.stack([columns["learning_rate"]], 1).astype(np.float32)

    zoo = open_local_zoo(bench_zoo_dir)
    result = run_protocol(Rates(), zoo, 0, FAST)
    assert type(result.trained.inputs) is MetadataInputs
    assert audit_predictor(result.trained, zoo.with_split("test")) is None
