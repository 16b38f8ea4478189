"""Settings of every test process that must be made before anything imports JAX (pytest
loads this file before ``tests/conftest.py``, whose imports do).

JAX's persistent compilation cache, in a folder made for this run and removed at its end:
a program compiled once is loaded from it by every later compile of the same program in
this run, whichever process asks: the pytest process (a new ``jit`` of the same network,
or the same build in another test), the other xdist worker, and the processes the tests
start (``tinyzoo build`` subprocesses, Ray workers), which inherit the environment. A
loaded executable is the compiled one, so results stay bitwise the same (the recorded
``tiny`` shard hashes of tests/zoo_builder/test_build.py check it). A finite size limit
makes JAX lock the folder around each read and write, which two workers writing at once
need.
"""

from __future__ import annotations

import os
import shutil
import tempfile

#: The folder this process made (the xdist controller, or a run without xdist); a worker
#: uses its controller's, which it inherits.
_OWN_CACHE: str | None = None

if "PYTEST_XDIST_WORKER" not in os.environ:
    _OWN_CACHE = tempfile.mkdtemp(prefix="tinyzoo-jax-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _OWN_CACHE
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0.5"
os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "-1"
os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"] = str(8 * 2**30)


def pytest_unconfigure(config) -> None:
    if _OWN_CACHE is not None:
        shutil.rmtree(_OWN_CACHE, ignore_errors=True)
