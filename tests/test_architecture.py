"""The layers of the code base (docs/ARCHITECTURE.md), checked on the source itself.

Packages from the bottom up: ``zoo_data`` (with ``errors`` and ``version`` at its very
bottom), ``zoo_builder``, ``predictors``, ``benchmarks``, ``tinyzoo``. Every import,
at module level or inside a function, must point down or stay in its package.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("zoo_data", "zoo_builder", "predictors", "benchmarks", "tinyzoo")
BOTTOM = ("zoo_data.errors", "zoo_data.version", "zoo_data.lazy")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import of a project package in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return [(line, m, names) for line, m, names in found if m.split(".")[0] in LAYERS]


MODULES = _modules()


def test_the_layers_cover_every_package():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages - {"tests"} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_points_up(module):
    here = LAYERS.index(module.split(".")[0])
    for line, target, _ in _imports(MODULES[module]):
        there = LAYERS.index(target.split(".")[0])
        assert there <= here, f"{MODULES[module]}:{line}: imports {target}, a layer above"


@pytest.mark.parametrize("module", BOTTOM)
def test_errors_and_version_import_nothing_of_the_project(module):
    assert _imports(MODULES[module]) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_library_never_imports_the_perf_scripts_nor_private_names(module):
    for line, target, names in _imports(MODULES[module]):
        if not module.startswith("benchmarks.perf"):
            assert not target.startswith("benchmarks.perf"), f"{MODULES[module]}:{line}"
        if target.split(".")[:2] != module.split(".")[:2]:  # another package or folder
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            assert not private, f"{MODULES[module]}:{line}: imports private {private}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_short(module):
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module]}: {lines} lines"


def test_reading_a_zoo_imports_no_training_code_no_jax_and_no_ray(synthetic_zoo_master):
    code = f"""
import json, sys
from zoo_data import load_zoo
zoo = load_zoo({str(synthetic_zoo_master)!r}, split="train")
batch = next(zoo.batches(4, shuffle=True, seed=0, channel_axis=True))
assert batch.labels.shape == (4,)
zoo.metadata, zoo.spec, zoo.tensor_shapes
print(json.dumps(sorted(sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    loaded = json.loads(out.stdout)
    banned = ("zoo_builder", "predictors", "benchmarks", "tinyzoo", "jax", "flax", "optax",
              "ray")
    assert [m for m in loaded if m.split(".")[0] in banned] == []
