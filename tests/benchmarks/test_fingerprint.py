"""The code fingerprint covers what computed a seed: the protocol, the method's module and
the ``predictors`` modules it imports, nothing else (benchmarks/fingerprint.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks import fingerprint
from benchmarks.fingerprint import code_fingerprint, predictor_sources

ROOT = Path(fingerprint.__file__).resolve().parents[1] / "predictors"


def names(method: str) -> set[str]:
    start, _ = fingerprint._method_start(method)
    return {str(p.relative_to(ROOT)) for p in predictor_sources(start)}


def test_each_builtin_covers_its_module_and_what_it_imports_only():
    unf = names("unf")
    assert {"unf_predictor.py", "unf/layer.py", "unf/classes.py", "unf/__init__.py",
            "base.py", "mlp.py"} <= unf
    assert "statnn.py" not in unf and "__init__.py" not in unf and "registry.py" not in unf
    assert names("statnn") == {"base.py", "mlp.py", "statnn.py"}
    assert not any(n.startswith("unf/") for n in names("deep-sets"))


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the predictors package that the fingerprint reads instead."""
    copy = tmp_path / "predictors"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "_package_root", lambda: copy)
    return copy


def test_an_edit_reruns_the_methods_that_import_it_and_no_other(package_copy):
    methods = ("unf", "statnn", "deep-sets", "hparams")
    before = {m: code_fingerprint(m) for m in methods}

    (package_copy / "unf" / "layer.py").write_text(
        (package_copy / "unf" / "layer.py").read_text() + "\n# edited\n")
    after = {m: code_fingerprint(m) for m in methods}
    assert after["unf"] != before["unf"]
    assert all(after[m] == before[m] for m in methods if m != "unf")

    (package_copy / "a_new_predictor.py").write_text("from predictors.base import Predictor\n")
    assert {m: code_fingerprint(m) for m in methods} == after  # a new module: nothing

    (package_copy / "base.py").write_text((package_copy / "base.py").read_text() + "\n#\n")
    assert all(code_fingerprint(m) != after[m] for m in methods)  # shared by every method


def test_a_submission_covers_its_file_and_the_package_modules_it_imports(package_copy,
                                                                       tmp_path):
    user = tmp_path / "mine.py"
    user.write_text("from predictors.unf import UNF\nfrom predictors.base import Predictor\n")
    start, submitted = fingerprint._method_start(f"{user}:Mine")
    assert submitted == [user]
    covered = {str(p.relative_to(package_copy.resolve())) for p in predictor_sources(start)}
    assert "unf/layer.py" in covered and "statnn.py" not in covered
    before = code_fingerprint(f"{user}:Mine")
    user.write_text(user.read_text() + "# edited\n")
    assert code_fingerprint(f"{user}:Mine") != before
    (package_copy / "unf" / "spec.py").write_text(
        (package_copy / "unf" / "spec.py").read_text() + "\n#\n")
    edited = code_fingerprint(f"{user}:Mine")
    (package_copy / "statnn.py").write_text((package_copy / "statnn.py").read_text() + "\n#\n")
    assert code_fingerprint(f"{user}:Mine") == edited


def test_relative_imports_are_followed(package_copy):
    (package_copy / "unf" / "extra.py").write_text("X = 1\n")
    layer = package_copy / "unf" / "layer.py"
    layer.write_text(layer.read_text() + "\nfrom .extra import X  # noqa\n")
    covered = {str(p.relative_to(package_copy.resolve()))
               for p in predictor_sources(fingerprint._method_start("unf")[0])}
    assert "unf/extra.py" in covered


def test_a_seed_is_not_saved_when_its_code_changed_after_the_run_started(package_copy,
                                                                        monkeypatch):
    """The process runs the code it imported; a file written after it started would put
    the seed under a fingerprint of code that did not compute it."""
    import os
    import time

    from zoo_data.errors import TinyZooError
    now = time.time()
    monkeypatch.setattr(fingerprint, "STARTED", now)  # the copy's files keep older mtimes
    fingerprint.check_unchanged_since_start("unf")
    layer = package_copy / "unf" / "layer.py"
    os.utime(layer, (now + 60, now + 60))  # edited during the run
    with pytest.raises(TinyZooError, match=r"unf/layer.py: changed after this run started"):
        fingerprint.check_unchanged_since_start("unf")
    fingerprint.check_unchanged_since_start("statnn")  # does not import the layer
