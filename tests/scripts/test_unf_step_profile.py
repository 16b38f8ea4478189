"""The UNF step profiler (:mod:`scripts.unf_step_profile`): it must attribute
every op of a compiled program to the right category and count the bytes it writes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.unf_step_profile import categorise, entry_ops

HLO = """HloModule jit_step

%fused_computation (p: f32[4,8]) -> f32[4,8] {
  %p = f32[4,8]{1,0} parameter(0)
  ROOT %inner = f32[4,8]{1,0} add(%p, %p)
}

ENTRY %main (a: f32[4,8], b: f32[8,2]) -> f32[4,2] {
  %a = f32[4,8]{1,0} parameter(0)
  %b = f32[8,2]{1,0} parameter(1)
  %add_fusion = f32[4,8]{1,0} fusion(%a), kind=kLoop, calls=%fused_computation
  %concatenate.3 = f32[8,8]{1,0} concatenate(%a, %add_fusion), dimensions={0}
  %transpose_copy_fusion = f32[8,4]{1,0} fusion(%a), kind=kLoop, calls=%fused_computation
  %flag = pred[4]{0} constant({1,0,1,0})
  ROOT %dot.1 = f32[4,2]{1,0} dot(%add_fusion, %b), lhs_contracting_dims={1}
}
"""


def test_entry_ops_reads_only_the_entry_computation_with_output_bytes():
    ops = entry_ops(HLO)
    assert "inner" not in ops and "p" not in ops  # a fused computation's body is not an op
    assert ops["add_fusion"][1] == 4 * 8 * 4
    assert ops["concatenate.3"][1] == 8 * 8 * 4
    assert ops["flag"][1] == 4  # pred: one byte each
    assert ops["dot.1"][1] == 4 * 2 * 4


@pytest.mark.parametrize("name,category", [
    ("dot.1", "matmul"), ("concatenate.3", "concatenate"),
    ("transpose_copy_fusion", "transpose/copy"), ("add_fusion", "elementwise/reduce")])
def test_categories(name, category):
    assert categorise(name, entry_ops(HLO)[name][0]) == category


def test_xla_cpu_dot_fusions_count_as_matmul():
    assert categorise("ynn_fusion.57", "%ynn_fusion.57 = f32[16,96]{1,0} fusion(%a), "
                      "kind=kCustom") == "matmul"


@pytest.mark.slow
def test_profile_runs_on_a_tiny_weight_space(tmp_path):
    """As a script (XLA's per-op trace flag must be set before its backend starts)."""
    out = tmp_path / "profile.json"
    subprocess.run([sys.executable, "-m", "scripts.unf_step_profile", "--hidden", "4",
                    "--vocab", "3", "--batch", "2", "--repeats", "1", "--train-models", "20000",
                    "--json", str(out)], check=True, capture_output=True,
                   cwd=Path(__file__).resolve().parents[2])
    (p,) = json.loads(out.read_text())["profiles"]
    assert p["categories"]["matmul"]["ops"] > 0 and p["gflop"] > 0
    assert p["ops_sum_ms"] == pytest.approx(sum(c["ms"] for c in p["categories"].values()),
                                            abs=0.5)
    assert p["epoch_min"] > 0 and p["wall_over_flop_bound"] > 0
