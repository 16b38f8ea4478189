"""Two builds on one folder: a second build of the same groups is refused with one line
while the first holds its lock (across processes, and released even by SIGKILL), and
builds of other slices of the same zoo take other locks, so ``--shard i/N`` builds
still run in parallel into one shared folder. No training happens in these tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.cli import cli, one_line_error
from zoo_builder.plan import LOCK_DIR, plan_build
from zoo_builder.request import BuildRequest
from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import get_preset

TINY = get_preset("tiny")

HOLDER = """
import sys, time
from pathlib import Path
from zoo_builder.plan import plan_build
from zoo_builder.request import BuildRequest
from zoo_data.rnn.presets import get_preset
with plan_build(BuildRequest(out=Path(sys.argv[1]), config=get_preset("tiny"))):
    print("locked", flush=True)
    time.sleep(120)
"""


def request(out: Path, **kw) -> BuildRequest:
    return BuildRequest(out=out, config=TINY, **kw)


def test_a_second_build_of_the_same_groups_is_refused(tmp_path, capsys):
    out = tmp_path / "zoo"
    with plan_build(request(out)) as plan:
        assert len(plan.todo) == len(plan.groups) == 4
        code, _, err = cli(capsys, "build", "--preset", "tiny", "--out", str(out), "--quiet")
        line = one_line_error(code, err)
        assert "another build of the same 4 training groups is running" in line
        assert str(out / LOCK_DIR) in line and "--shard i/N" in line
        assert not list((out / "data").glob("*.parquet"))  # nothing was trained
        # other slices of the zoo take other locks and may run at the same time
        with plan_build(request(out, shard=(0, 4))) as first, \
                plan_build(request(out, shard=(1, 4))) as second:
            assert [g.index for g in first.groups] == [0]
            assert [g.index for g in second.groups] == [1]
            with pytest.raises(TinyZooError, match="another build of the same 1 "), \
                    plan_build(request(out, shard=(1, 4))):
                pass
    # released: the same build may start again
    with plan_build(request(out)) as plan:
        assert len(plan.todo) == 4


def test_the_lock_holds_across_processes_and_a_killed_build_releases_it(tmp_path):
    out = tmp_path / "zoo"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)],
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(TinyZooError, match="another build of the same 4 "), \
                plan_build(request(out)):
            pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the OS drops a killed process's locks at once; allow for slow reaping
        try:
            with plan_build(request(out)) as plan:
                assert len(plan.todo) == 4
            break
        except TinyZooError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
