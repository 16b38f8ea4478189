"""Shared fixtures of the scoring and leaderboard tests: small synthetic zoos (real
schema and layout, random weights and labels; configs in :mod:`tests.fixtures.zoos`),
built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fixtures.zoos import BENCH_CONFIG, SMALLER_CONFIG, TWIN_CONFIG
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.zoo import Zoo, open_local_zoo


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


@pytest.fixture
def labels_unchecked(monkeypatch):
    """For the board's layout tests, whose records name made-up zoos (no manifest, no
    label file can exist for them): the board takes every record's test labels as
    checked. Its figures are still recomputed; the label checks have their own tests
    (test_provenance.py)."""
    import benchmarks.provenance as provenance

    monkeypatch.setattr(provenance, "check_record_labels", lambda *args: None)
