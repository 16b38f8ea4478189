"""Shared fixtures of the scoring and leaderboard tests: small synthetic zoos (real
schema and layout, random weights and labels), built once per session, and helpers
to write submission files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import ZooConfig
from zoo_data.zoo import Zoo, open_local_zoo

#: 60 models (48 / 6 / 6 split: test ids 54..59); hidden 4 keeps the files tiny.
BENCH_CONFIG = ZooConfig("bench-test", num_models=60, hidden=4, max_digits=1, steps=10,
                         n_test=20, n_train_pool=30, group_size=8)
#: Another zoo with other test ids (27..29), which are train ids of BENCH_CONFIG's zoo.
SMALLER_CONFIG = ZooConfig("bench-test", num_models=30, hidden=4, max_digits=1, steps=10,
                           n_test=20, n_train_pool=30, group_size=8)
#: Another zoo with the same model count (hence the same test ids) but another seed.
TWIN_CONFIG = ZooConfig("bench-test", num_models=60, hidden=4, max_digits=1, steps=10,
                        n_test=20, n_train_pool=30, group_size=8, seed=1)


@pytest.fixture(scope="session")
def bench_zoo_dir(tmp_path_factory) -> Path:
    """A complete synthetic zoo of :data:`BENCH_CONFIG`; tests must not modify it."""
    return write_synthetic_zoo(tmp_path_factory.mktemp("bench") / "zoo", BENCH_CONFIG)


@pytest.fixture(scope="session")
def smaller_zoo_dir(tmp_path_factory) -> Path:
    return write_synthetic_zoo(tmp_path_factory.mktemp("smaller") / "zoo", SMALLER_CONFIG)


@pytest.fixture(scope="session")
def twin_zoo_dir(tmp_path_factory) -> Path:
    return write_synthetic_zoo(tmp_path_factory.mktemp("twin") / "zoo", TWIN_CONFIG)


@pytest.fixture(scope="session")
def bench_test(bench_zoo_dir) -> Zoo:
    """The test split of the bench zoo (ids 54..59)."""
    return open_local_zoo(bench_zoo_dir, "test")


@pytest.fixture
def zoo_copy(bench_zoo_dir, tmp_path) -> Path:
    """A private copy of the bench zoo."""
    return Path(shutil.copytree(bench_zoo_dir, tmp_path / "zoo"))


def write_csv(path: Path, rows, *, header: str | None = "model_id,predicted_sr",
              comment: str | None = None) -> Path:
    """Write a submission file: optional comment line, header, ``rows`` of
    ``(model_id, value)`` (each written with ``str``) or raw strings."""
    lines = []
    if comment is not None:
        lines.append(comment)
    if header is not None:
        lines.append(header)
    for row in rows:
        lines.append(row if isinstance(row, str) else f"{row[0]},{row[1]}")
    path.write_text("".join(line + "\n" for line in lines))
    return path
