"""The quickstart (examples/quickstart.py and the notebook made from it): the notebook is
the script, stored without outputs, and runs top to bottom on the tiny zoo as a reader
would run it (nbclient, a real kernel, no network)."""

from __future__ import annotations

import shutil

import pytest

from examples.make_notebook import NOTEBOOK, SCRIPT, cells, notebook

nbformat = pytest.importorskip("nbformat")


def test_the_notebook_is_the_script_and_holds_no_outputs():
    stored = nbformat.read(NOTEBOOK, as_version=4)
    made = notebook(SCRIPT.read_text())
    assert [(c.cell_type, c.source) for c in stored.cells] == \
        [(c.cell_type, c.source) for c in made.cells], \
        "examples/quickstart.ipynb is stale: run python -m examples.make_notebook"
    code = [c for c in stored.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    kinds = [kind for kind, _ in cells(SCRIPT.read_text())]
    assert kinds[0] == "markdown" and kinds.count("code") >= 10


def test_the_notebook_runs_top_to_bottom_on_the_tiny_zoo(reference, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    work = tmp_path / "work"
    shutil.copytree(reference, work / "zoos" / "tiny")  # built once per test run
    monkeypatch.setenv("QUICKSTART_DIR", str(work))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.outputs)
    assert "Tensor spread (quickstart)" in text and "forest plot: ['tiny-" in text
    assert "torch-quickstart" in text
    assert (work / "board" / "LEADERBOARD.md").is_file()
    assert (work / "results").is_dir() and len(list((work / "results").glob("*.json"))) == 5
