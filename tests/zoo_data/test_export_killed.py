"""SIGKILL ``tinyzoo export`` at seeded random moments: the final name never holds a
partial file (an .npz under its name is always the whole, loadable export, and every
.safetensors file present loads), and the export run again completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(args: list[str], delay: float) -> None:
    """Run ``tinyzoo ARGS``; SIGKILL it ``delay`` s after its start unless it is done."""
    proc = subprocess.Popen([sys.executable, "-m", "tinyzoo", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)  # done before the moment: nothing to kill
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_a_killed_export_never_leaves_a_partial_file_under_the_final_name(
        synthetic_zoo, tmp_path, fmt):
    out = tmp_path / ("zoo.npz" if fmt == "npz" else "tensors")
    args = ["export", str(synthetic_zoo), "--format", fmt, "--out", str(out), "--quiet"]
    rng = np.random.default_rng(15)
    # the whole export takes about 0.6 s on an idle 2-core machine (import included), a
    # few seconds under the suite's load: moments within it (they were 1-6 s, after it)
    for delay in sorted(rng.uniform(0.3, 2.5, size=4)):
        run_and_kill(args, float(delay))
        if fmt == "npz":
            if out.exists():
                with np.load(out) as npz:
                    assert len(npz.files) > 0 and all(npz[k].size for k in npz.files)
        elif out.exists():
            for path in out.glob("*.safetensors"):
                assert load_file(path)  # every file under its final name is whole
    done = subprocess.run([sys.executable, "-m", "tinyzoo", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    if fmt == "npz":
        with np.load(out) as npz:
            assert len(npz.files) > 0
    else:
        assert len(list(out.glob("*.safetensors"))) == 30


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    """SIGKILL leaves ``.NAME.tmp-<pid>`` behind; the next write of NAME removes it (and
    leaves a live writer's alone)."""
    import os
    import subprocess
    import sys

    from zoo_data.common.atomic import atomic_write

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".out.zip.tmp-{gone}"
    stale.write_bytes(b"half an export")
    live = tmp_path / f".out.zip.tmp-{os.getppid()}"  # a process that is running
    live.write_bytes(b"being written")
    atomic_write(tmp_path / "out.zip", b"whole")
    assert not stale.exists() and live.exists()
    assert (tmp_path / "out.zip").read_bytes() == b"whole"
