"""Shared fixtures of the zoo data tests: a small synthetic zoo (real schema and
layout, random weights), built once per session, and a loopback HTTP server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import filelock
import pytest

from tests.fixtures.http_server import ZooServer
from tests.fixtures.zoos import DATA_CONFIG
from zoo_builder.build import build_zoo
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import get_preset


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
    """The ``tiny`` zoo, built once per run in one process (one device), in one go; every
    other way of building it must give the same shards. Tests must not modify it.

    With xdist, the first worker to need it builds it into the run's folder (above the
    workers' own), holding a file lock; another worker waits for the lock and uses it."""
    tiny = get_preset("tiny")
    run_dir = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_dir = run_dir.parent
    zoo_dir = run_dir / "reference" / "zoo"
    built = run_dir / "reference" / "built"
    with filelock.FileLock(run_dir / "reference.lock", timeout=600):
        if not built.exists():
            assert not zoo_dir.exists(), "building the reference zoo failed in another worker"
            report = build_zoo(zoo_dir, tiny, progress=False)
            assert report.complete and report.groups_skipped == 0
            assert report.models_built == tiny.num_models
            built.touch()
    return zoo_dir


#: Tests that take 10 s or more on a 2-core machine (``pytest --durations``). They are
#: started first, so that the xdist workers do not end the run waiting on one of them.
HEAVY_FIRST = (
    "tests/test_quickstart.py::test_the_notebook_runs_top_to_bottom",
    "tests/zoo_builder/test_scale_out.py",
    "tests/test_toy_family.py",
    "tests/predictors/test_unf_layer_speedup.py",
    "tests/zoo_builder/test_build.py::test_sigkilled_build_resumes_to_the_same_zoo",
    "tests/scripts/test_weights_gap.py",
    "tests/zoo_builder/test_schedule.py::test_training_with_cosine",
    "tests/predictors/test_unf_classes.py",
    "tests/zoo_builder/test_model_and_training.py::test_training_reduces",
    "tests/predictors/test_predictors.py::test_builtins_give_one_logit",
)


def pytest_collection_modifyitems(config, items):
    """Run :data:`HEAVY_FIRST` before the rest (a stable sort: order otherwise kept)."""
    items.sort(key=lambda item: not item.nodeid.startswith(HEAVY_FIRST))
