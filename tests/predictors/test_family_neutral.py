"""The predictors are family-neutral: what differs between zoo families they ask of the
zoo's family (:class:`zoo_data.families.base.ZooFamily`), and a family that has no
answer (no runnable network, no hyperparameters, no data to run on) makes the predictor
that needs it refuse with one line."""

from __future__ import annotations

import pytest

from predictors.probegen import ProbeGen, ProbeGenNet
from predictors.references import HParams, ProbeOracle
from predictors.unf_predictor import UNFPredictor
from tests.fixtures.bare_family import BARE, BareConfig, BareZoo, register
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import families
from zoo_data.rnn.family import TINY_RNN_ZOO
from zoo_data.rnn.presets import PRESETS

TINY = PRESETS["tiny"]


class _Sized(BareZoo):
    """The bare family asking for UNF sizes of its own."""

    def predictor_sizes(self, config):
        return {"unf": {"channels": (4, 4), "hidden": (8,)}}


@pytest.fixture
def bare(monkeypatch):
    """A config of the bare family, registered for the test."""
    register(monkeypatch, (BARE, BareZoo()))
    yield BareConfig(**TINY.__dict__)
    families.cache_clear()


@pytest.mark.parametrize(("predictor", "what"), [
    (ProbeGen, "runs each network on learned probes; the Bare Zoo has no runnable network"),
    (HParams, "reads the hyperparameters a zoo records; the Bare Zoo records none"),
    (ProbeOracle, "runs each network on fresh data of its task; the Bare Zoo publishes no "
                  "data to run its networks on"),
])
def test_a_predictor_refuses_a_family_without_its_answer(bare, predictor, what):
    with pytest.raises(TinyZooError) as e:
        predictor().bind(bare)
    message = str(e.value)
    assert message == f"{predictor.name}: {what}, so it does not apply to this zoo"
    assert "\n" not in message


def test_unf_takes_its_sizes_from_the_family(monkeypatch):
    unf = UNFPredictor()
    register(monkeypatch, (BARE, _Sized()))
    try:
        unf.bind(BareConfig(**TINY.__dict__))
        assert (unf.channels, unf.hidden) == ((4, 4), (8,))
        unf.bind(TINY)  # a family without sizes: the class's own
        assert (unf.channels, unf.hidden) == ((16, 16, 16), (512, 512))
    finally:
        families.cache_clear()


def test_probegen_is_one_net_built_from_the_familys_probe_network():
    predictor = ProbeGen()
    predictor.bind(TINY)
    assert predictor.metadata_columns == ()
    module = predictor.module(TINY_RNN_ZOO.spec(TINY))
    assert isinstance(module, ProbeGenNet) and module.num_probes == 32
    # a question and a decoder input per probe, each starting from a real problem
    assert module.network.probe_shape == (2 * TINY.max_digits + 2 + TINY.max_digits + 2, 14)
    assert module.network.initial_probes(32, 0).shape == (32, *module.network.probe_shape)
    with pytest.raises(RuntimeError, match="bind"):
        ProbeGen().module(None)
