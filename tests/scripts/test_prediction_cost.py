"""scripts/prediction_cost.py: XLA's FLOP count of one prediction per method."""

from __future__ import annotations

from scripts.prediction_cost import prediction_cost
from zoo_data.rnn.presets import get_preset


def test_probing_costs_its_network_evaluations_and_metadata_readers_none():
    config = get_preset("tiny")
    probing = prediction_cost("probing", config)
    t_q, t_a = 2 * config.max_digits + 2, config.max_digits + 2
    assert probing["gru_steps"] == min(256, config.n_train_pool) * (t_q + 2 * t_a)
    assert probing["gflop"] > 0
    statnn = prediction_cost("statnn", config)
    assert statnn["gru_steps"] == 0 and statnn["gflop"] > 0 and "numpy" in statnn["note"]
    assert prediction_cost("hparams", config)["gflop"] is None
