"""The XLA-flags benchmark (:mod:`scripts.unf_step_xla_flags`): medians over rounds, the
FLOP bound from the matmul rate measured beside the step, and a checksum that tells
whether a flag changed the step's float results."""

from __future__ import annotations

import pytest

from scripts.unf_step_xla_flags import FLAG_SETS, run_once, summarise


def test_summarise_takes_medians_and_divides_by_the_flop_bound():
    runs = [{"step_ms": s, "gflop": 2.0, "matmul_2048_gflop_per_s": r, "checksum": 1.5}
            for s, r in ((30.0, 400.0), (10.0, 100.0), (20.0, 200.0))]
    row = summarise(runs)
    assert row["step_ms"] == 20.0 and row["matmul_2048_gflop_per_s"] == 200.0
    assert row["flop_bound_ms"] == pytest.approx(10.0)  # 2 GFLOP at 200 GFLOP/s
    assert row["step_over_bound"] == pytest.approx(2.0)
    assert row["step_ms_per_round"] == [30.0, 10.0, 20.0]


def test_one_process_times_the_step():
    r = run_once(FLAG_SETS["default"], hidden=4, repeats=2)
    assert r["step_ms"] > 0 and r["matmul_2048_gflop_per_s"] > 0 and r["gflop"] > 0
    assert r["checksum"] > 0


def test_a_flag_set_xla_refuses_is_reported_as_one_line_not_a_crash():
    """And so the flags do reach XLA: an unknown one fails its process."""
    failed = run_once("--xla_cpu_no_such_flag=true", hidden=4, repeats=1)
    assert set(failed) == {"error"} and "\n" not in failed["error"]
    assert failed["error"]
