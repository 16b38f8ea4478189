"""Paper Table 3, exactly, from the actual flax modules on the real haiku weight spaces."""

import subprocess
import sys

import pytest

from benchmarks.learned_opt_tasks import TASKS
from benchmarks.table3 import PAPER_TABLE3, count_f_params, table3_rows


@pytest.mark.parametrize(
    "task,unf,deep_set",
    [
        ("mlp", 3783, 2788),
        ("cnn", 7369, 2788),
        ("rnn", 8043, 2788),
        ("transformer", 64168, 2788),
    ],
)
def test_parameter_counts_equal_the_paper(task, unf, deep_set):
    assert count_f_params(TASKS[task], "unf") == unf
    assert count_f_params(TASKS[task], "deepset") == deep_set


def test_counts_include_the_three_meta_scalars():
    """DS layers 19->32->32->32 and DS[1] (dense maps with biases), plus alpha, beta, gamma_0."""
    dense = sum(c_in * c_out + c_out for c_in, c_out in [(19, 32), (32, 32), (32, 32), (32, 1)])
    assert count_f_params(TASKS["cnn"], "deepset") == dense + 3 == PAPER_TABLE3["cnn"][1]


def test_cli_prints_table3_and_exits_zero():
    out = subprocess.run(
        [sys.executable, "-m", "tinyzoo", "reproduce", "table3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "64,168" in out.stdout and "Transformer on LM1B" in out.stdout
    assert len(table3_rows()) == 4
