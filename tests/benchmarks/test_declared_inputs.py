"""A predictor gets only what it declares it reads: metadata predictors never see
weights and are refused, with one line naming the column, when they declare a column
the zoo lacks, a label column, or read one they did not declare."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import ProtocolConfig, run_protocol
from predictors.base import Predictor
from predictors.mlp import MLP
from tests.fixtures.cli import cli, one_line_error
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Columns, open_local_zoo

FAST = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=8)

USER_FILE = '''
import numpy as np
from predictors.base import Predictor
from predictors.mlp import MLP


class Greedy(Predictor):
    name = "greedy"
    reads = "metadata"
    metadata_columns = ({declared})
    cache_features = True

    def features(self, columns, spec):
        return np.stack([columns[c] for c in ({used})], axis=1).astype(np.float32)

    def module(self, spec):
        return MLP(())
'''


class Seen(Predictor):
    """Records what ``features`` was given."""

    name = "seen"
    reads = "metadata"
    metadata_columns = ("learning_rate", "train_loss")
    cache_features = True

    def __init__(self):
        self.inputs = []

    def features(self, columns, spec):
        self.inputs.append(columns)
        return np.stack([columns["learning_rate"], columns["train_loss"]], 1).astype(np.float32)

    def module(self, spec):
        return MLP(())


def test_metadata_predictors_see_only_their_columns(bench_zoo_dir):
    predictor = Seen()
    result = run_protocol(predictor, bench_zoo_dir, 0, FAST)
    assert all(isinstance(c, Columns) and sorted(c) == ["learning_rate", "train_loss"]
               for c in predictor.inputs)
    zoo = open_local_zoo(bench_zoo_dir)
    sizes = sorted(len(c["learning_rate"]) for c in predictor.inputs)
    assert sum(sizes) == len(zoo)  # train, val, test: each model once
    with pytest.raises(TinyZooError, match="reads metadata column 'test_sr', which it did "
                                           "not declare"):
        predictor.inputs[0]["test_sr"]
    assert result.test["n"] == 6


@pytest.mark.parametrize("declared, used, message", [
    ('"learning_rate", "depth"', '"learning_rate",',
     "greedy: declares metadata column 'depth', which the zoo at"),
    ('"test_sr",', '"test_sr",', "greedy: declares metadata column 'test_sr', which is "
                                 "measured on the test problems"),
    ('"learning_rate",', '"learning_rate", "train_loss"',
     "greedy: reads metadata column 'train_loss', which it did not declare"),
])
def test_bad_declarations_are_one_line_errors(bench_zoo_dir, tmp_path, capsys, declared, used,
                                              message):
    path = tmp_path / "greedy.py"
    path.write_text(USER_FILE.format(declared=declared, used=used))
    code, _, err = cli(capsys, "bench", f"{path}:Greedy", "--zoo", str(bench_zoo_dir),
                       "--seeds", "1", "--epochs", "1", "--passes-per-epoch", "1",
                       "--results-dir", str(tmp_path / "r"),
                       "--quiet")
    assert message in one_line_error(code, err)
    assert not (tmp_path / "r").exists()


def test_an_unknown_reads_value_is_refused(tmp_path, capsys, bench_zoo_dir):
    path = tmp_path / "odd.py"
    path.write_text(USER_FILE.format(declared='"learning_rate",', used='"learning_rate",')
                    .replace('reads = "metadata"', 'reads = "telepathy"'))
    code, _, err = cli(capsys, "bench", f"{path}:Greedy", "--zoo", str(bench_zoo_dir),
                       "--seeds", "1", "--quiet", "--results-dir", str(tmp_path / "r"))
    assert "reads 'telepathy'; declare one of weights, metadata, function" in \
        one_line_error(code, err)
