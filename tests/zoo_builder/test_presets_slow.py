"""The `mini` preset, built for real through the CLI: a complete zoo whose SRs are spread.

About two minutes on 2 cores, so marked ``slow`` (outside CI); run it with
``python3 -m pytest -q -m slow tests/zoo_builder/test_presets_slow.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from zoo_data.archive.labels import sr_spread
from zoo_data.archive.manifest import read_manifest
from zoo_data.rnn.presets import get_preset
from zoo_data.zoo import load_rows


@pytest.mark.slow
def test_mini_zoo_builds_and_its_srs_are_spread(tmp_path):
    zoo_dir = tmp_path / "mini"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-m", "tinyzoo", "build", "--preset", "mini", "--out", str(zoo_dir),
         "--quiet"],
        capture_output=True, text=True, env=env, timeout=900, check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(zoo_dir)
    assert manifest["complete"] is True
    rows = load_rows(zoo_dir).with_format("numpy")[:]
    assert rows["model_id"].tolist() == list(range(get_preset("mini").num_rows))
    report = sr_spread(rows["test_sr"])
    assert report.ok, report.summary()
