"""The README's and the guide's (docs/GUIDE.md) Python examples run as written (against a
synthetic zoo of the mini preset's shape at the path they use); the README opens with
"Start here": the two set-up commands, then the quickstart, how to submit and the
board."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.rnn.presets import PRESETS

README = Path(__file__).resolve().parents[1] / "README.md"
GUIDE = README.parent / "docs" / "GUIDE.md"


def python_blocks(marker: str) -> list[str]:
    text = README.read_text() + GUIDE.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if marker in b]


def test_the_readme_starts_with_the_two_commands_then_three_links():
    text = README.read_text()
    start = text[text.index("## Start here"):text.index("\n## ", text.index("## Start here"))]
    commands = re.findall(r"```bash\n(.*?)```", start, flags=re.S)
    assert [c.strip() for c in commands] == [
        'pip install -e ".[dev,ray]" && tinyzoo reproduce table1 --preset mini',
        "python3 -m pytest -q -m \"not slow\" -n auto --dist worksteal"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "python3 -m pytest -q -m \"not slow\" -n auto --dist worksteal" in ci
    links = re.findall(r"^\d\. \*\*\[(.*?)\]\((.*?)\)", start, flags=re.M)
    assert [name for name, _ in links] == ["Quickstart", "How to submit", "The board"]
    for _, target in links:
        assert (README.parent / target.split("#")[0]).is_file(), target


@pytest.fixture
def mini_zoo_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_synthetic_zoo(tmp_path / "data" / "zoos" / "mini", PRESETS["mini"])
    return tmp_path


def test_load_zoo_example(mini_zoo_here):
    (block,) = python_blocks("load_zoo(")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["train"]) == 320  # 160 models x 2 checkpoints, as the README says
    assert namespace["batch"].params["GRUCell_0"]["hn"]["kernel"].shape == (10, 32, 32, 1)


def test_predictor_example_trains(mini_zoo_here):
    from benchmarks import ProtocolConfig, run_protocol

    (block,) = python_blocks("class TensorScales")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    result = run_protocol(namespace["TensorScales"](), "data/zoos/mini", 0,
                          ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None))
    assert result.test["n"] == 40 and np.isfinite(result.test["mae"])  # 20 models x 2


def test_predictor_example_is_the_shipped_file():
    (block,) = python_blocks("class TensorScales")
    shipped = (README.parent / "predictors" / "examples" / "tensor_scales.py").read_text()
    assert shipped.endswith(block)


def test_torch_example(mini_zoo_here, monkeypatch):
    pytest.importorskip("torch")
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", mini_zoo_here / "hf")
    (block,) = python_blocks("torch_loaders(")
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    batch = namespace["batch"]
    assert tuple(batch["GRUCell_0/hn/kernel"].shape) == (32, 32, 32)  # as the README says
    assert tuple(batch["test_sr"].shape) == (32,)
    assert len(namespace["loaders"]["val"].dataset) == 40  # 20 models x 2 checkpoints
    assert next(iter(namespace["flat"]))["weights"].shape[1] == 9_550  # mini's parameters


def test_submission_example_is_accepted(mini_zoo_here, capsys):
    import runpy
    import sys

    from tinyzoo.cli import main

    script = README.parent / "predictors" / "examples" / "write_submission.py"
    argv = sys.argv
    sys.argv = [str(script), "data/zoos/mini", "preds.csv"]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    code = main(["submit", "--predictions", "preds.csv", "--zoo", "data/zoos/mini",
                 "--name", "readout-heuristic", "--results-dir", "results"])
    assert code == 0, capsys.readouterr().err
    assert len(list((mini_zoo_here / "results").glob("*readout-heuristic.json"))) == 1


def test_every_mean_and_spread_the_readme_quotes_is_a_committed_records():
    """A ``0.dddd ± 0.dddd`` in the README's results is the test tau (mean ± std over
    seeds) of a committed record, on the board or among the ablations, as the board
    rounds it: a re-made board whose figures moved fails until the README says so."""
    import json

    root = README.parent
    files = [*(root / "leaderboard" / "results").glob("*.json"),
             *(root / "docs" / "results" / "ablations").glob("*.json")]
    committed = set()
    for path in files:
        tau = json.loads(path.read_text())["summary"]["test_kendall_tau"]
        if tau["mean"] is not None and tau["std"] is not None:
            committed.add(f"{tau['mean']:.4f} ± {tau['std']:.4f}")
    text = " ".join(README.read_text().split())  # a figure may wrap over a line break
    quoted = re.findall(r"\b0\.\d{4} ± 0\.\d{4}\b", text)
    assert len(quoted) >= 5, quoted  # the results section quotes the board
    assert [q for q in quoted if q not in committed] == []
