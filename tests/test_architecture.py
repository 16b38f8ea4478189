"""The layers of the code base (docs/ARCHITECTURE.md), checked on the source itself.

Packages from the bottom up: ``zoo_data`` (with ``errors`` and ``version`` at its very
bottom), ``zoo_builder``, ``predictors``, ``benchmarks``, ``tinyzoo``. Every import,
at module level or inside a function, must point down or stay in its package.

Beside them, three folders that run from a checkout only: ``scripts`` (performance and
calibration scripts), ``examples`` (the quickstart) and ``tests``. No library package
imports any of them, and none is installed. Test modules share helpers through
``tests/fixtures`` and fixtures through conftests, never by importing another test
module or a conftest.

What differs between zoo families lives in ``zoo_data/rnn``, ``zoo_data/cnn`` and
``zoo_data/families``: no other library module tells families apart (``isinstance``
with a family's config, duck typing of a config, comparing with a family's name) or
imports the Small CNN Zoo's modules (but its own CLI command); it asks the registry.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import setuptools

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("zoo_data", "zoo_builder", "predictors", "benchmarks", "tinyzoo")
BOTTOM = ("zoo_data.errors", "zoo_data.version", "zoo_data.lazy")
#: Folders beside the library that run from a checkout only; never imported by it.
CHECKOUT_ONLY = ("scripts", "tests", "examples")
MAX_LINES = 400


def _modules(*packages: str) -> dict[str, Path]:
    out = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(path: Path, roots=LAYERS) -> list[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import in ``path`` of a package in ``roots``
    (relative imports resolved)."""
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module, [a.name for a in node.names]))
    return [(line, m, names) for line, m, names in found if m.split(".")[0] in roots]


def _private(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("_") and not n.endswith("__")]


MODULES = _modules(*LAYERS)
SCRIPTS = _modules("scripts")
TESTS = _modules("tests")


def test_the_layers_cover_every_package():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages - set(CHECKOUT_ONLY) == set(LAYERS)


def test_scripts_and_tests_are_not_installed():
    """pyproject's ``packages.find`` picks the library's packages and nothing else."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        find = tomllib.load(f)["tool"]["setuptools"]["packages"]["find"]
    installed = setuptools.find_packages(str(ROOT), include=find.get("include", ("*",)),
                                         exclude=find.get("exclude", ()))
    assert {p.split(".")[0] for p in installed} == set(LAYERS)


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
def test_the_library_never_imports_scripts_or_tests_nor_private_names(module):
    for line, target, names in _imports(MODULES[module], LAYERS + CHECKOUT_ONLY):
        assert target.split(".")[0] not in CHECKOUT_ONLY, f"{MODULES[module]}:{line}: {target}"
        if target.split(".")[:2] != module.split(".")[:2]:  # another package or folder
            private = _private(names)
            assert not private, f"{MODULES[module]}:{line}: imports private {private}"


@pytest.mark.parametrize("module", sorted(SCRIPTS))
def test_scripts_call_the_library_by_public_names(module):
    for line, target, names in _imports(SCRIPTS[module]):
        private = _private(names)
        assert not private, f"{SCRIPTS[module]}:{line}: imports private {private} of {target}"


def _is_test_module(name: str) -> bool:
    """A ``test_*`` module or a conftest: pytest imports them, other modules do not."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


@pytest.mark.parametrize("module", sorted(TESTS))
def test_tests_share_helpers_not_test_modules(module):
    """A module of the tests imports no ``test_*`` module and no conftest (shared helpers
    live in ``tests/fixtures``, shared fixtures in a conftest) and no private name of
    another module of the tests."""
    for line, target, names in _imports(TESTS[module], ("tests",)):
        where = f"{TESTS[module]}:{line}"
        if target == module:
            continue
        modules = [target, *(f"{target}.{n}" for n in names if f"{target}.{n}" in TESTS)]
        assert not [m for m in modules if _is_test_module(m)], f"{where}: imports {target}"
        private = _private(names)
        assert not private, f"{where}: imports private {private} of {target}"


@pytest.mark.parametrize("module", sorted(MODULES | SCRIPTS))
def test_modules_stay_short(module):
    path = {**MODULES, **SCRIPTS}[module]
    lines = path.read_text().count("\n")
    assert lines <= MAX_LINES, f"{path}: {lines} lines"


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


#: The rooms of ``zoo_data`` from the bottom up (docs/ARCHITECTURE.md): a module imports
#: only modules of its own room or of rooms below it (the top level's modules use one
#: another); ``rnn`` and ``cnn`` (the two families) share a level but never import each
#: other; the families' interface and
#: registry sit below the archive, which reaches a family only through the registry.
ZOO_DATA_ROOMS = (
    ("zoo_data.errors", "zoo_data.version", "zoo_data.lazy"),
    ("zoo_data.common",),
    ("zoo_data.families",),
    ("zoo_data.archive",),
    ("zoo_data.remote",),
    ("zoo_data.rnn", "zoo_data.cnn"),
    ("zoo_data.zoo", "zoo_data.rows", "zoo_data.export", "zoo_data.info",
     "zoo_data.torch_data", "zoo_data"),
)


def _room(module: str) -> tuple[int, str]:
    """``(level, room)`` of a ``zoo_data`` module: the longest room name it is in."""
    best = max((room for rooms in ZOO_DATA_ROOMS for room in rooms
                if module == room or module.startswith(room + ".")), key=len)
    level = next(i for i, rooms in enumerate(ZOO_DATA_ROOMS) if best in rooms)
    return level, best


def _runtime_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``zoo_data`` import in ``path``, at module level or in
    a function, except those under ``if TYPE_CHECKING:`` (annotations only)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                found.append((child.lineno, child.module))
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return [(line, m) for line, m in found if m.split(".")[0] == "zoo_data"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("zoo_data")))
def test_zoo_data_rooms_import_only_downwards(module):
    here, room = _room(module)
    for line, target in _runtime_imports(MODULES[module]):
        there, other = _room(target)
        where = f"{MODULES[module]}:{line}: imports {target}"
        top = here == len(ZOO_DATA_ROOMS) - 1  # the top modules use one another
        assert there < here or (there == here and (other == room or top)), where


def test_the_family_interface_and_registry_import_nothing_concrete():
    """``families.base`` imports nothing of the project at run time; the registry only the
    errors and the interface (built-in families are named by strings, loaded on use)."""
    assert _runtime_imports(MODULES["zoo_data.families.base"]) == []
    targets = {t for _, t in _runtime_imports(MODULES["zoo_data.families.registry"])}
    assert targets == {"zoo_data.errors", "zoo_data.families.base"}


# -- what differs between families stays in the families ------------------------------

#: Where a family's knowledge lives: each family's folder, the interface and the registry.
FAMILY_HOMES = ("zoo_data.rnn", "zoo_data.cnn", "zoo_data.families")
#: Library modules besides those that may import a family's modules, and which. A
#: family's own CLI command only: ``tinyzoo import small-cnn-zoo`` runs the Small CNN
#: Zoo's importer, which no other family has (so no ZooFamily member reaches it).
FAMILY_COMMANDS = {"tinyzoo.cnn_commands": ("zoo_data.cnn.importer",)}
#: The family reached only through the registry: nothing else imports its modules.
IMPORTED_FAMILY = "zoo_data.cnn"
FAMILY_CONFIGS = {"ZooConfig", "CNNZooConfig"}
FAMILY_NAME_CONSTANTS = {"RNN_FAMILY", "CNN_FAMILY", "FAMILY"}
FAMILY_LITERALS = {"tiny-rnn-zoo", "small-cnn-zoo", "Tiny RNN Zoo", "Small CNN Zoo"}
#: What a config or zoo is called: ``config``, ``zoo_config``, ``self._config``, ``zoo``.
CONFIG_LIKE = re.compile(r"(^|_)(config|cfg|zoo)$")


def _identifier(node: ast.AST) -> str | None:
    """The last name of ``node`` (``x`` of ``a.b.x``), if it is a name or attribute."""
    return node.id if isinstance(node, ast.Name) else (
        node.attr if isinstance(node, ast.Attribute) else None)


def _docstrings(tree: ast.AST) -> set[int]:
    """``id()`` of every docstring constant of ``tree``."""
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                          | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def _names_a_family(node: ast.AST) -> bool:
    """A family's name: a family-name constant, or a literal name or title."""
    parts = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return any(_identifier(p) in FAMILY_NAME_CONSTANTS
               or (isinstance(p, ast.Constant) and p.value in FAMILY_LITERALS) for p in parts)


def _tells_families_apart(node: ast.AST) -> bool:
    """``node`` is family dispatch: ``isinstance`` with a family's config class; an
    ``is_cnn``-style name; ``hasattr`` on a config or zoo, or ``getattr`` on one by a
    literal name or with a default (duck typing; ``getattr(config, name)`` over the
    config's own fields, as ``zoo_builder.programs``' variations, is not); a comparison
    or ``case`` with a family's name or title."""
    name = (node.id if isinstance(node, ast.Name) else node.attr
            if isinstance(node, ast.Attribute) else node.arg
            if isinstance(node, ast.arg | ast.keyword) else node.name
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else None)
    if name in ("is_cnn", "is_rnn"):
        return True
    if isinstance(node, ast.Compare):
        return any(_names_a_family(n) for n in (node.left, *node.comparators))
    if isinstance(node, ast.MatchValue):
        return _names_a_family(node.value)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
        return False
    call, args = node.func.id, node.args
    if call in ("isinstance", "issubclass"):
        return len(args) == 2 and any(_identifier(n) in FAMILY_CONFIGS
                                      for n in ast.walk(args[1]))
    duck = call == "hasattr" or (call == "getattr" and len(args) >= 2 and (
        len(args) == 3 or isinstance(args[1], ast.Constant)))
    return duck and CONFIG_LIKE.search(_identifier(args[0]) or "") is not None


def _within(module: str, packages) -> bool:
    """``module`` is one of ``packages`` or inside one."""
    return any(module == p or module.startswith(p + ".") for p in packages)


def _family_dispatch(source: str, module: str) -> list[str]:
    """``"<line>: <code>"`` for each place of ``source`` (library module ``module``) that
    knows a family other than through the registry: family dispatch
    (:func:`_tells_families_apart`), and an import of (or a string naming) a module of
    the imported family's folder, but for :data:`FAMILY_COMMANDS`."""
    tree = ast.parse(source)
    docstrings, found = _docstrings(tree), []
    allowed = FAMILY_COMMANDS.get(module, ())
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if _tells_families_apart(node):
            found.append(f"{line}: {ast.unparse(node)}")
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = ([node.module] if _within(node.module, (IMPORTED_FAMILY,))
                       else [f"{node.module}.{a.name}" for a in node.names])
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            targets = [node.value.split(":")[0]]
        found += [f"{line}: {target}" for target in targets
                  if _within(target, (IMPORTED_FAMILY,)) and not _within(target, allowed)]
    return found


def test_no_library_module_outside_the_families_knows_a_family():
    """Outside the families' folders and the registry, the library asks a zoo's family
    (``family_of``, ``family_named``) instead of telling families apart itself."""
    found = [f"{MODULES[m]}:{hit}" for m in sorted(MODULES) if not _within(m, FAMILY_HOMES)
             for hit in _family_dispatch(MODULES[m].read_text(), m)]
    assert found == []


@pytest.mark.parametrize("planted", [
    "isinstance(config, ZooConfig)", "isinstance(c, (CNNZooConfig, int))",
    "x = zoo.is_cnn", "def is_cnn(config): pass", "hasattr(zoo.config, 'checkpoints')",
    "getattr(config, 'family', None)", "getattr(zoo, 'split_sizes')",
    "getattr(self._config, name, None)", "zoo.family.name == RNN_FAMILY",
    "name != 'small-cnn-zoo'", "name in (CNN_FAMILY, 'other')", "f.title == 'Tiny RNN Zoo'",
    "match name:\n case 'tiny-rnn-zoo': pass", "import zoo_data.cnn.config",
    "from zoo_data.cnn.layout import DATASETS", "from zoo_data import cnn",
    "from zoo_data.cnn import importer", "x = {'a': 'zoo_data.cnn.family:SMALL_CNN_ZOO'}",
])
def test_the_family_check_finds_a_planted_violation(planted):
    assert _family_dispatch(planted, "benchmarks.planted") != []


@pytest.mark.parametrize("allowed", [
    "isinstance(config, family.config_class)", "getattr(config, name)",
    "getattr(hp, 'batch_size', None)", "family_named(RNN_FAMILY)",
    "d.get('family', RNN_FAMILY)", "version('tiny-rnn-zoo')", "import zoo_data.rnn.presets",
    '"""See :mod:`zoo_data.cnn.importer`."""', "zoo.family.paper_table == 'table2'",
])
def test_the_family_check_lets_family_neutral_code_be(allowed):
    assert _family_dispatch(allowed, "benchmarks.planted") == []


def test_a_familys_own_command_may_import_what_it_runs():
    command = "from zoo_data.cnn.importer import import_small_cnn_zoo"
    assert _family_dispatch(command, "tinyzoo.cnn_commands") == []
    assert _family_dispatch("from zoo_data.cnn.config import FAMILY",
                            "tinyzoo.cnn_commands") != []
    assert _family_dispatch(command, "tinyzoo.zoo_commands") != []
