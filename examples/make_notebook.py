"""Write ``examples/quickstart.ipynb`` from ``examples/quickstart.py`` (its source).

The script is the notebook in the "percent" format: a line ``# %%`` starts a code cell,
``# %% [markdown]`` a Markdown cell whose lines are comments (``# `` stripped). The
notebook is written without outputs, so git holds no outputs; the tests execute it and
check that it is what this module makes of the script.

    python -m examples.make_notebook
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "quickstart.py"
NOTEBOOK = HERE / "quickstart.ipynb"


def cells(script: str) -> list[tuple[str, str]]:
    """``[(kind, source)]`` of the percent-format ``script`` (``kind``: ``"code"`` or
    ``"markdown"``), blank lines at either end of a cell dropped."""
    out: list[tuple[str, list[str]]] = []
    for line in script.splitlines():
        if line.startswith("# %%"):
            out.append(("markdown" if "[markdown]" in line else "code", []))
        elif out:
            kind, lines = out[-1]
            if kind == "markdown":
                line = line[2:] if line.startswith("# ") else line.lstrip("#")
            lines.append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in out]


def notebook(script: str):
    """The ``nbformat`` v4 notebook of ``script``, without outputs."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source) for kind, source in cells(script)]
    for k, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{k:02d}"  # stable ids: the file changes only with the script
    return nb


def main() -> None:
    import nbformat

    NOTEBOOK.write_text(nbformat.writes(notebook(SCRIPT.read_text())) + "\n")
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
