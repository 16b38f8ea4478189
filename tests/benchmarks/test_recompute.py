"""Recompute, never trust (benchmarks/recompute.py): a record's figures must be what its
per-model predictions give. Forged summaries, forged per-run figures and predictions
replaced without their figures are refused in one line naming the file and field."""

from __future__ import annotations

import copy

import pytest

from benchmarks.bench import run_benchmark
from benchmarks.protocol_config import ProtocolConfig
from benchmarks.recompute import check_figures
from zoo_data.errors import TinyZooError

QUICK = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)


@pytest.fixture(scope="module")
def made(bench_zoo_dir, tmp_path_factory) -> dict:
    record, _ = run_benchmark("statnn", bench_zoo_dir, 2, QUICK,
                              tmp_path_factory.mktemp("recompute"), progress=False, log=None)
    return record


def test_a_record_as_made_passes(made):
    check_figures(made, "made.json")


@pytest.mark.parametrize("forge, field", [
    (lambda r: r["summary"]["test_kendall_tau"].update(mean=0.95),
     "summary.test_kendall_tau.mean"),
    (lambda r: r["runs"][1]["test"].update(kendall_tau=0.99), "runs[1].test.kendall_tau"),
    (lambda r: r["predictions"]["predicted_sr"][0].reverse(), "runs[0].test.kendall_tau"),
    (lambda r: r["test_tau_ci"].update(high=0.999), "test_tau_ci.high"),
])
def test_a_forged_figure_is_refused_naming_its_field(made, forge, field):
    forged = copy.deepcopy(made)
    forge(forged)
    with pytest.raises(TinyZooError) as err:
        check_figures(forged, "forged.json")
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"forged.json: {field} is ")
