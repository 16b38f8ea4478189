"""Zoos are checked for meaning as well as bytes (zoo_data/archive/values.py): a hostile
zoo whose shards were rewritten and whose manifest hashes were recomputed, so that every
sha256 matches, is refused in one line naming the shard, the column and the model, by
``open_local_zoo`` (every command that opens a zoo) and by ``tinyzoo verify`` (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.fixtures.cli import cli
from tests.fixtures.hostile_zoos import rewrite
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo


def nan_weight(columns):
    kernel = columns["GRUCell_0/hn/kernel"]
    kernel[1][0][0] = float("nan")
    return columns["model_id"][1]


def bad_label(columns):
    columns["test_sr"][0] = 3.0
    return columns["model_id"][0]


def negative_id(columns):
    columns["model_id"][0] = -4
    return -4


def train_id_in_test(columns):
    columns["model_id"][0] = 0  # a train model's row in a test shard
    return 0


@pytest.mark.parametrize("split, change, column, what", [
    ("train", nan_weight, "GRUCell_0/hn/kernel", "a weight that is not finite"),
    ("test", bad_label, "test_sr", "3.0: a success rate is finite, in [0, 1]"),
    ("val", negative_id, "model_id", "not a row of this zoo"),
    ("test", train_id_in_test, "model_id", "a train row in a test shard"),
])
def test_a_hostile_zoo_with_matching_hashes_is_refused(synthetic_zoo, tmp_path, capsys,
                                                       split, change, column, what):
    shard, model = rewrite(synthetic_zoo, split, change)
    with pytest.raises(TinyZooError) as err:
        open_local_zoo(synthetic_zoo)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{shard}: column {column}, model {model}:")
    assert what in line
    code, out, err_text = cli(capsys, "verify", str(synthetic_zoo))
    assert code == 2 and f"column {column}, model {model}" in out + err_text


def test_a_shard_that_is_a_symbolic_link_is_refused(synthetic_zoo, tmp_path):
    manifest = json.loads((synthetic_zoo / "manifest.json").read_text())
    name = sorted(manifest["shards"])[0]
    outside = tmp_path / "elsewhere.parquet"
    shard = synthetic_zoo / "data" / name
    outside.write_bytes(shard.read_bytes())  # the same bytes: its sha256 matches
    shard.unlink()
    shard.symlink_to(outside)
    with pytest.raises(TinyZooError, match="a symbolic link, not a shard file"):
        open_local_zoo(synthetic_zoo)


def test_an_honest_zoo_passes_and_is_checked_once_per_process(synthetic_zoo, monkeypatch):
    from zoo_data.archive import verify

    zoo = open_local_zoo(synthetic_zoo)
    assert len(zoo) > 0 and np.isfinite(zoo.labels).all()
    calls = []
    monkeypatch.setattr(verify, "check_shard_values",
                        lambda *a, **k: calls.append(a) or [])
    open_local_zoo(synthetic_zoo)
    assert calls == []  # unchanged shards: neither hashed nor read again
