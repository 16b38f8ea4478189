"""The code fingerprint of a benchmark seed: which source files computed it.

A saved seed (``results/.partial``) and a record carry ``code_fingerprint(method)``;
a seed of other code is run again, never reused, and a committed record of other
code is re-made (:mod:`benchmarks.reproduction`). The fingerprint is the sha256 of

    the protocol's modules (:data:`PROTOCOL_FILES`, in ``benchmarks/``)
  + the method's own module and every module of the ``predictors`` package it imports,
    directly or through other ``predictors`` modules (read from their ``import``
    statements, :func:`predictor_sources`), with the ``__init__.py`` of each
    subpackage on the way
  + for a code submission (``path.py:Class`` or a folder), its ``.py`` files.

So editing UNF's layer re-runs UNF and nothing else, and a new predictor added to the
package re-runs nothing; an edit to a module every predictor imports
(``predictors/base.py``) re-runs them all. The package's top ``__init__.py`` (lazy
exports only) and the registry (names to classes; a renamed class changes the
method's own module) are not part of any method's fingerprint.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import time
from pathlib import Path

from zoo_data.errors import TinyZooError

__all__ = ["PROTOCOL_FILES", "STARTED", "check_unchanged_since_start", "code_fingerprint",
           "covered_files", "predictor_sources"]

#: The protocol's modules (in ``benchmarks/``) that every code fingerprint covers.
PROTOCOL_FILES = ("protocol.py", "protocol_config.py", "inputs.py", "training_step.py")

#: When this process imported this module, before any predictor: a covered file written
#: later may not be the code this process runs (:func:`check_unchanged_since_start`).
STARTED = time.time()

_PACKAGE = "predictors"


def _package_root() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)  # located, not imported
    return Path(next(iter(spec.submodule_search_locations)))


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of module ``predictors.a.b`` (``a/b.py`` or ``a/b/__init__.py``)."""
    parts = dotted.split(".")[1:]
    base = root.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imported_modules(path: Path, root: Path) -> set[str]:
    """Dotted names of the ``predictors`` modules that ``path`` imports (absolute or
    relative; ``from pkg import name`` counts ``pkg.name`` too when it is a module)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    try:
        here = ".".join((_PACKAGE, *path.relative_to(root).with_suffix("").parts))
    except ValueError:  # a submission's file, outside the package
        here = None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and here is not None:
                anchor = here.split(".")[: -node.level]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m == _PACKAGE or m.startswith(_PACKAGE + ".")}


def predictor_sources(start: list[Path]) -> list[Path]:
    """Every ``predictors`` file that the files ``start`` import, transitively, with the
    ``__init__.py`` of each subpackage a module lies in (not the package's top one),
    plus the ``start`` files inside the package; sorted, each once."""
    root = _package_root().resolve()
    seen: set[Path] = set()
    todo = [p.resolve() for p in start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        parent = path.parent
        while parent != root and root in parent.parents:  # subpackages on the way
            todo.append(parent / "__init__.py")
            parent = parent.parent
        for dotted in _imported_modules(path, root):
            if dotted == _PACKAGE:
                continue
            module = _module_file(root, dotted)
            if module is not None:
                todo.append(module.resolve())
    inside = [p for p in seen if root in p.parents and p != root / "__init__.py"]
    return sorted(inside)


def _method_start(method: str) -> tuple[list[Path], list[Path]]:
    """``(files to follow, submission files)`` of ``method``: a built-in's module, or a
    submission's ``.py`` file(s)."""
    source = Path(method.rsplit(":", 1)[0]) if ":" in method else Path(method)
    if source.is_file():
        return [source], [source]
    if source.is_dir():
        files = sorted(source.rglob("*.py"))
        return files, files
    from predictors.registry import BUILTINS  # a name: the registry knows its class

    cls = BUILTINS.get(method)
    if cls is None:
        return [], []
    return [_module_file(_package_root(), cls.__module__)], []


def covered_files(method: str) -> list[Path]:
    """Every file the fingerprint of ``method`` reads, in its order."""
    start, submitted = _method_start(method)
    here = Path(__file__).resolve().parent
    return ([here / name for name in PROTOCOL_FILES] + predictor_sources(start)
            + list(submitted))


def check_unchanged_since_start(method: str) -> None:
    """Refuse to save a seed of ``method`` whose code changed on disk after this process
    started: the process runs the code it imported, while the fingerprint reads the files
    now, so the seed would be filed under code that did not compute it.

    A submission's own files are not checked: its sealed child reads them when it
    starts, at every run.

    Raises:
      TinyZooError: one line naming the first such file.
    """
    start, submitted = _method_start(method)
    here = Path(__file__).resolve().parent
    for path in [here / name for name in PROTOCOL_FILES] + predictor_sources(start):
        if path.stat().st_mtime > STARTED:
            raise TinyZooError(f"{path}: changed after this run started, so the seed would "
                               "be recorded under code that did not compute it; run the "
                               "command again (saved seeds are kept)")


def code_fingerprint(method: str) -> str:
    """sha256 of the code a seed of ``method`` (a built-in's name, ``path.py:Class`` or a
    submission folder) is computed with (module docstring). The files enter by their
    path inside the package (or their name, for a submission's), then their bytes."""
    start, submitted = _method_start(method)
    root = _package_root().resolve()
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in PROTOCOL_FILES:
        digest.update(f"benchmarks/{name}".encode() + b"\0" + (here / name).read_bytes()
                      + b"\0")
    for f in predictor_sources(start):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    for f in submitted:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()
