"""The acceptance test of zoo families: a third family, defined only in the test suite
(``tests/fixtures/toy_family``: its family object and one entry point), writes a zoo,
loads with ``datasets.load_dataset`` and ``load_zoo``, is verified and described by the
CLI, benchmarks with every built-in predictor under the protocol, and has its own
section on the board. No library file names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.toy_family.family import FAMILY, TOY_MLP_ZOO, ToyConfig, group_rows

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "tests" / "fixtures" / "toy_family" / "site"
LIBRARY = ("zoo_data", "zoo_builder", "predictors", "benchmarks", "tinyzoo")


@pytest.fixture(scope="module")
def registered():
    """The toy family's entry point on ``sys.path`` (as an installed plug-in would be)."""
    from zoo_data.families import registry

    sys.path.insert(0, str(SITE))
    registry.families.cache_clear()
    yield registry
    sys.path.remove(str(SITE))
    registry.families.cache_clear()


@pytest.fixture(scope="module")
def toy_zoo(registered, tmp_path_factory) -> Path:
    from zoo_data.archive.writer import rows_table, write_zoo

    config = ToyConfig()
    out = tmp_path_factory.mktemp("toy") / "zoo"
    write_zoo(out, config, lambda g: rows_table(config, *group_rows(config, g)))
    return out


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "tinyzoo", *args], capture_output=True,
                          text=True, env=env, cwd=cwd)


def test_no_library_file_names_the_toy_family():
    for package in LIBRARY:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert FAMILY not in text and "toy_family" not in text, path


def test_the_entry_point_registers_it_after_the_built_ins(registered):
    assert list(registered.families())[-1] == FAMILY
    assert registered.family_of(ToyConfig()) is TOY_MLP_ZOO
    assert registered.config_from_dict(ToyConfig().to_dict()) == ToyConfig()


def test_it_loads_with_datasets_and_load_zoo(toy_zoo):
    import datasets

    from zoo_data import load_zoo

    ds = datasets.load_dataset(str(toy_zoo))
    assert {s: ds[s].num_rows for s in ds} == {"train": 48, "validation": 6, "test": 6}
    row = ds["train"].with_format("numpy")[0]
    assert row["Dense_0/kernel"].shape == (2, 8) and row["Dense_1/bias"].shape == (2,)
    zoo = load_zoo(toy_zoo, split="val")
    assert zoo.spec == TOY_MLP_ZOO.spec(zoo.config) and len(zoo) == 6
    batch = next(zoo.batches(3, channel_axis=True))
    assert batch.params["Dense_0"]["kernel"].shape == (3, 2, 8, 1)
    assert np.all((zoo.labels >= 0) & (zoo.labels <= 1))


def test_the_cli_verifies_and_describes_it(toy_zoo, tmp_path):
    verified = _cli("verify", str(toy_zoo), cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    info = _cli("info", str(toy_zoo), "--json", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["family"] == FAMILY and summary["num_models"] == 60


def test_every_built_in_benchmarks_and_the_board_shows_its_section(toy_zoo, tmp_path):
    from benchmarks.bench import run_benchmark
    from benchmarks.leaderboard import write_leaderboard
    from benchmarks.protocol_config import ProtocolConfig
    from predictors.registry import BUILTINS

    results = tmp_path / "results"
    # batches of 16 divide the 48 training models: one training-step shape to compile
    config = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None, batch_size=16,
                            eval_batch_size=16)
    for method in BUILTINS:
        record, path = run_benchmark(method, toy_zoo, seeds=1, config=config,
                                     results_dir=results, progress=False, log=None)
        assert record["zoo"]["family"] == FAMILY and path.is_file()
    records = sorted(p.name for p in results.glob("*.json"))
    assert len(records) == len(BUILTINS)
    report = write_leaderboard(results, tmp_path / "board")
    board = report.markdown.read_text()
    assert f"# {TOY_MLP_ZOO.title}\n" in board
    for cls in BUILTINS.values():
        assert cls.display_name in board
