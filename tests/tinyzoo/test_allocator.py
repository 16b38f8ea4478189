"""The command line under tcmalloc (:mod:`tinyzoo.allocator`): when it re-executes itself,
with what environment, and that the re-executed process really has the library loaded,
keeps its process id and arguments, and does not loop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinyzoo.allocator import LIBRARY_NAMES, OPT_OUT, find_tcmalloc, preload_env

LIB = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def test_the_library_is_preloaded_before_any_other_and_the_choice_is_recorded():
    env = preload_env({"LD_PRELOAD": "/opt/a.so", "HOME": "/root"}, LIB, platform="linux")
    assert env["LD_PRELOAD"] == f"{LIB}:/opt/a.so"
    assert env[OPT_OUT] == "tcmalloc" and env["HOME"] == "/root"
    assert preload_env({}, LIB, platform="linux")["LD_PRELOAD"] == LIB


@pytest.mark.parametrize("environ, library, platform", [
    ({}, None, "linux"),  # not installed
    ({}, LIB, "darwin"),  # not Linux
    ({OPT_OUT: "system"}, LIB, "linux"),  # asked for the C library's malloc
    ({"LD_PRELOAD": f"/x.so {LIB}"}, LIB, "linux"),  # already preloaded: no loop
    ({"LD_PRELOAD": "/opt/gperftools/libtcmalloc.so.4"}, LIB, "linux"),  # another tcmalloc
])
def test_no_reexec_when_it_is_not_wanted_or_not_possible(environ, library, platform):
    assert preload_env(environ, library, platform=platform) is None


def test_an_unknown_choice_is_an_error_naming_the_variable_and_the_value():
    with pytest.raises(ValueError, match=r"TINYZOO_MALLOC='jemalloc'"):
        preload_env({OPT_OUT: "jemalloc"}, LIB, platform="linux")


def test_the_preferred_library_is_found_first(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    (second / LIBRARY_NAMES[0]).write_bytes(b"")
    (first / LIBRARY_NAMES[1]).write_bytes(b"")
    assert find_tcmalloc([str(first), str(second)]) == str(second / LIBRARY_NAMES[0])
    assert find_tcmalloc([str(first)]) == str(first / LIBRARY_NAMES[1])
    assert find_tcmalloc([str(tmp_path / "none")]) is None


def _a_real_library(tmp_path: Path) -> Path:
    """A loadable shared library under a tcmalloc name: tcmalloc where installed,
    otherwise the C maths library (preloading it changes nothing)."""
    real = find_tcmalloc()
    if real is None:
        import ctypes.util

        name = ctypes.util.find_library("m")
        real = next(str(Path(d) / name) for d in ("/lib/x86_64-linux-gnu", "/usr/lib64",
                                                  "/lib64", "/usr/lib/x86_64-linux-gnu",
                                                  "/lib", "/usr/lib")
                    if name and (Path(d) / name).is_file())
    link = tmp_path / LIBRARY_NAMES[0]
    link.symlink_to(real)
    return link


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD is Linux's")
def test_the_process_is_replaced_by_itself_with_the_library_loaded(tmp_path):
    library = _a_real_library(tmp_path)
    code = ("import os, sys\n"
            "print('start', os.getpid(), sys.argv[1:], flush=True)\n"
            "from tinyzoo.allocator import reexec_under_tcmalloc\n"
            f"reexec_under_tcmalloc(library={str(library)!r})\n"
            "maps = open('/proc/self/maps').read()\n"
            f"print('loaded', {str(library.resolve())!r} in maps or {str(library)!r} in maps)\n"
            "print('preload', os.environ['LD_PRELOAD'])\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", OPT_OUT)}
    out = subprocess.run([sys.executable, "-c", code, "an-arg"], capture_output=True,
                         text=True, env=env, timeout=60, check=True).stdout.splitlines()
    starts = [line for line in out if line.startswith("start")]
    assert len(starts) == 2 and starts[0] == starts[1]  # run twice, one process id, args kept
    assert starts[0].endswith("['an-arg']")
    assert "loaded True" in out and f"preload {library}" in out


def test_the_console_entry_point_refuses_an_unknown_choice_in_one_line():
    env = dict(os.environ, **{OPT_OUT: "bogus"})
    done = subprocess.run([sys.executable, "-m", "tinyzoo", "--help"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "TINYZOO_MALLOC='bogus'" in done.stderr


def test_opting_out_runs_the_command_line_as_it_is():
    env = dict(os.environ, **{OPT_OUT: "system"})
    env.pop("LD_PRELOAD", None)
    code = ("import os, runpy, sys\n"
            "sys.argv = ['tinyzoo', '--help']\n"
            "try:\n    runpy.run_module('tinyzoo', run_name='__main__')\n"
            "except SystemExit as e:\n    print('exit', e.code, os.environ.get('LD_PRELOAD'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "exit 0 None"
