"""Shared fixtures of the zoo data tests: a small synthetic zoo (real schema and
layout, random weights), built once per session, and a loopback HTTP server."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import filelock
import pytest

from tests.fixtures.http_server import ZooServer
from tests.fixtures.zoos import DATA_CONFIG
from zoo_builder.build import build_zoo
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import get_preset


def pytest_configure(config) -> None:
    """One persistent JAX compilation cache for the whole run, shared by the xdist
    workers and the CLI subprocesses the tests start (they inherit the environment):
    a program compiled by one test is loaded, not compiled again, by the next that
    builds the same program. The controller makes a fresh folder (workers inherit
    its variables; results are the same with or without it: a cached program is the
    compiled one) and removes it at the end; a user's own cache setting is left
    alone."""
    if os.environ.get("PYTEST_XDIST_WORKER") or "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    import tempfile

    settings = {"jax_compilation_cache_dir": tempfile.mkdtemp(prefix="tinyzoo-jax-cache-"),
                "jax_persistent_cache_min_compile_time_secs": 0,
                "jax_persistent_cache_min_entry_size_bytes": -1}
    for name, value in settings.items():
        os.environ[name.upper()] = str(value)
    if "jax" in sys.modules:  # imported already (by a conftest): set it in this process too
        for name, value in settings.items():
            sys.modules["jax"].config.update(name, value)
    config._tinyzoo_jax_cache = settings["jax_compilation_cache_dir"]


def pytest_unconfigure(config) -> None:
    """Remove the run's compilation cache (:func:`pytest_configure`)."""
    folder = getattr(config, "_tinyzoo_jax_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        for name in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                     "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"):
            os.environ.pop(name, None)


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
