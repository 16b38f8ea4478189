"""Paper Table 3, exactly, from the actual flax modules on the real haiku weight spaces."""

import pytest

from benchmarks.learned_opt_tasks import TASKS
from benchmarks.table3 import PAPER_TABLE3, count_f_params, table3_rows
from tests.fixtures.cli import cli


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


def test_cli_prints_table3_and_exits_zero(capsys):
    code, out, err = cli(capsys, "reproduce", "table3")  # in-process: no JAX start-up
    assert code == 0, err
    assert "64,168" in out and "Transformer on LM1B" in out
    assert len(table3_rows()) == 4
