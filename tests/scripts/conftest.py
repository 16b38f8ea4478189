"""Fixtures of the scripts' tests: the bench zoo (:data:`tests.fixtures.zoos.BENCH_CONFIG`),
built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.zoos import BENCH_CONFIG
from zoo_builder.synthetic import write_synthetic_zoo


@pytest.fixture(scope="session")
def bench_zoo_dir(tmp_path_factory) -> Path:
    """A complete synthetic zoo of ``BENCH_CONFIG``; tests must not modify it."""
    return write_synthetic_zoo(tmp_path_factory.mktemp("bench") / "zoo", BENCH_CONFIG)
