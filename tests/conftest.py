"""Shared fixtures of the zoo data tests: a small synthetic zoo (real schema and
layout, random weights), built once per session, and a loopback HTTP server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.zoo_data.http_server import ZooServer
from zoo_builder.build import build_zoo
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import ZooConfig, get_preset

#: 30 models (24 / 3 / 3 split) in several shards; hidden 4 keeps the files tiny.
DATA_CONFIG = ZooConfig("data-test", num_models=30, hidden=4, max_digits=1, steps=10,
                        n_test=20, n_train_pool=30, group_size=4)


@pytest.fixture(scope="session")
def synthetic_zoo_master(tmp_path_factory) -> Path:
    """A complete synthetic zoo; tests must not modify it (use ``synthetic_zoo``)."""
    return write_synthetic_zoo(tmp_path_factory.mktemp("master") / "zoo", DATA_CONFIG)


@pytest.fixture
def synthetic_zoo(synthetic_zoo_master, tmp_path) -> Path:
    """A private copy of the synthetic zoo that a test may change."""
    return Path(shutil.copytree(synthetic_zoo_master, tmp_path / "zoo"))


@pytest.fixture
def zoo_server(synthetic_zoo):
    """A loopback HTTP server publishing the test's copy of the synthetic zoo."""
    server = ZooServer(synthetic_zoo).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Path:
    """The ``tiny`` zoo, built once in this process (one device), in one go; every other
    way of building it must give the same shards. Tests must not modify it."""
    tiny = get_preset("tiny")
    zoo_dir = tmp_path_factory.mktemp("reference") / "zoo"
    report = build_zoo(zoo_dir, tiny, progress=False)
    assert report.complete and report.groups_skipped == 0
    assert report.models_built == tiny.num_models
    return zoo_dir
