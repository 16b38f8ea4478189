"""Scale-out: one zoo, whatever the fleet.

- several local devices (CPU host devices forced with ``--xla_force_host_platform_
  device_count=2``): the group's model blocks are really sharded, and the zoo equals the
  one built on one device;
- Ray (a local instance started by ``tinyzoo build --backend ray``): the zoo equals the
  single-process one, a worker killed mid-shard is retried, a killed driver resumes.

Everything runs real ``tinyzoo`` subprocesses, because the device count is fixed when a
process starts JAX, and because the kills must hit real processes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.once import once_per_run
from zoo_data.archive.folder import complete_shards
from zoo_data.archive.layout import ZooLayout, training_groups
from zoo_data.archive.manifest import read_manifest
from zoo_data.rnn.presets import get_preset

TINY = get_preset("tiny")
TWO_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}


def env_with(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "COLUMNS": "120"}
    env.pop("XLA_FLAGS", None)
    env.update(extra or {})
    return env


def run_tinyzoo(*args: str, extra_env: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyzoo", *args], env=env_with(extra_env),
                          capture_output=True, text=True, timeout=timeout, check=False)


def start_tinyzoo(*args: str) -> subprocess.Popen:
    """A ``tinyzoo`` process in a session of its own (Ray's processes join it)."""
    return subprocess.Popen([sys.executable, "-m", "tinyzoo", *args], env=env_with(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _proc_ids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def session_pids(sid: int) -> list[int]:
    pids = []
    for pid in _proc_ids():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid:  # state ppid pgrp session
            pids.append(pid)
    return pids


def kill_session(sid: int) -> None:
    """SIGKILL every process of session ``sid`` (a driver and the Ray it started)."""
    for pid in session_pids(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def ray_task_pids(sid: int) -> list[int]:
    """Processes of session ``sid`` executing a ``build_group_task`` (Ray titles them)."""
    found = []
    for pid in session_pids(sid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"ray::build_group_task"):
            found.append(pid)
    return found


def shard_hashes(zoo_dir: Path) -> dict[int, str]:
    return complete_shards(zoo_dir, ZooLayout.of(TINY))


def same_zoo(zoo_dir: Path, reference: Path) -> None:
    assert shard_hashes(zoo_dir) == shard_hashes(reference)
    assert read_manifest(zoo_dir)["complete"] is True
    assert read_manifest(zoo_dir)["shards"] == read_manifest(reference)["shards"]


# --------------------------------------------------------------------------- devices


def test_group_blocks_are_sharded_over_two_host_devices():
    script = """
import numpy as np, jax
from zoo_data.rnn.presets import get_preset
from zoo_builder.train import model_key
from zoo_builder.programs import group_programs
from zoo_data.archive.layout import training_groups
cfg = get_preset("tiny")
group = max(training_groups(cfg), key=lambda g: len(g.model_ids))
programs = group_programs(cfg, group.batch_size)
params, _ = programs.init(np.stack([np.asarray(model_key(cfg, i)) for i in group.model_ids]))
leaf = jax.tree_util.tree_leaves(params)[0]
print(programs.num_devices, len(leaf.sharding.device_set), leaf.shape[:2],
      sorted(s.data.shape[:2] for s in leaf.addressable_shards))
"""
    result = subprocess.run([sys.executable, "-c", script], env=env_with(TWO_DEVICES),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    # 8 models in 2 blocks of 4: one block on each device
    assert result.stdout.split() == ["2", "2", "(2,", "4)", "[(1,", "4),", "(1,", "4)]"]


def test_a_mini_group_trained_on_two_host_devices_is_bitwise_the_same(tmp_path):
    """Blocks of 25 (``mini``), 100 steps: weights and all three labels. (Before the
    labels were reduced on the host, the 2-device program's test loss differed in the
    last bit here, while ``tiny``'s blocks of 4 agreed.)"""
    import dataclasses

    import jax
    import numpy as np

    from zoo_builder.train import train_group

    config = dataclasses.replace(get_preset("mini"), steps=100, checkpoints=(50, 100))
    group = training_groups(config)[0]
    assert len(group.model_ids) == 50
    script = f"""
import dataclasses, numpy as np, jax
from zoo_data.rnn.presets import get_preset
from zoo_builder.train import train_group
from zoo_data.archive.layout import training_groups
config = dataclasses.replace(get_preset("mini"), steps=100, checkpoints=(50, 100))
r = train_group(config, training_groups(config)[0])
np.savez({str(tmp_path / "two.npz")!r}, sr=r.test_sr, test_loss=r.test_loss,
         train_loss=r.train_loss, *jax.tree_util.tree_leaves(r.params))
"""
    result = subprocess.run([sys.executable, "-c", script], env=env_with(TWO_DEVICES),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    two = np.load(tmp_path / "two.npz")
    one = train_group(config, group)
    np.testing.assert_array_equal(two["sr"], one.test_sr)
    np.testing.assert_array_equal(two["test_loss"], one.test_loss)
    np.testing.assert_array_equal(two["train_loss"], one.train_loss)
    leaves = jax.tree_util.tree_leaves(one.params)
    for k, leaf in enumerate(leaves):
        np.testing.assert_array_equal(two[f"arr_{k}"], leaf)


def test_a_zoo_built_on_two_host_devices_equals_the_one_device_zoo(reference, tmp_path):
    result = run_tinyzoo("build", "--preset", "tiny", "--out", str(tmp_path / "zoo"),
                         "--quiet", extra_env=TWO_DEVICES)
    assert result.returncode == 0, result.stderr
    assert "on 2 device(s)" in result.stdout
    same_zoo(tmp_path / "zoo", reference)
    # and one slice on the first of the two devices only
    result = run_tinyzoo("build", "--preset", "tiny", "--out", str(tmp_path / "one"),
                         "--quiet", "--devices", "1", "--shard", "1/4",
                         extra_env=TWO_DEVICES)
    assert result.returncode == 0 and "on 1 device(s)" in result.stdout, result.stderr
    assert shard_hashes(tmp_path / "one") == {1: shard_hashes(reference)[1]}


def test_more_devices_than_the_host_has_is_a_one_line_error(tmp_path):
    result = run_tinyzoo("build", "--preset", "tiny", "--out", str(tmp_path / "zoo"),
                         "--devices", "3", extra_env=TWO_DEVICES)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tinyzoo: error: devices 3: this host has 2 cpu device(s)"
    ]
    assert not (tmp_path / "zoo").exists()


# --------------------------------------------------------------------------- Ray


def test_without_ray_the_ray_backend_is_a_one_line_error(tmp_path):
    fake = tmp_path / "site" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("No module named \'ray\'")\n')
    result = run_tinyzoo("build", "--preset", "tiny", "--out", str(tmp_path / "zoo"),
                         "--backend", "ray",
                         extra_env={"PYTHONPATH": str(tmp_path / "site")})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'tiny-rnn-zoo[ray]'" in lines[0], result.stderr
    assert not (tmp_path / "zoo").exists()


def test_a_ray_task_for_a_complete_shard_only_checks_it(reference, tmp_path, monkeypatch):
    """A retried task whose shard was completed meanwhile (by its first attempt or an
    orphan of a killed driver) does not train again."""
    import shutil

    from zoo_builder import ray_build

    zoo_dir = Path(shutil.copytree(reference, tmp_path / "zoo"))

    def must_not_train(*args, **kwargs):
        raise AssertionError("trained a complete group")

    monkeypatch.setattr(ray_build, "train_group", must_not_train)
    for group in training_groups(TINY):
        index, sha = ray_build.build_group_task(str(zoo_dir), TINY.to_dict(), group.index)
        assert (index, sha) == (group.index, shard_hashes(reference)[group.index])


needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="the [ray] extra is not installed")


@pytest.fixture(scope="module")
def ray_resumed_build(reference, tmp_path_factory) -> dict:
    """:func:`_ray_resumed_build`, once per run."""
    return once_per_run(tmp_path_factory, "ray-resumed-build", _ray_resumed_build)


def _ray_resumed_build(folder: Path) -> dict:
    """One zoo, two Ray builds (each starting its own local Ray instance), made once per
    run (by whichever xdist worker comes first) for the two Ray tests below: a Ray
    instance and the compiles in its workers are the slowest thing in the suite.

    1. ``--workers 1``: the driver and its Ray instance are SIGKILLed once the first
       shard is written;
    2. the same command with ``--workers 2`` resumes it; its first task is SIGKILLed
       before its shard is written, and Ray retries it.

    Returns what the tests check: the shards done when the driver was killed, the
    manifest then, the shards when the task was killed, and the resumed run's exit code
    and output."""
    zoo_dir = folder / "zoo"
    args = ("build", "--preset", "tiny", "--out", str(zoo_dir), "--backend", "ray")
    proc = start_tinyzoo(*args, "--workers", "1", "--quiet")
    try:
        deadline = time.monotonic() + 120
        while not ((zoo_dir / "data").is_dir() and shard_hashes(zoo_dir)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no shard within 120 s"
            time.sleep(0.1)
    finally:
        kill_session(proc.pid)  # the driver and the Ray instance it started
    proc.wait(timeout=30)
    done_before = {str(i): sha for i, sha in shard_hashes(zoo_dir).items()}  # JSON keys
    complete_after_kill = read_manifest(zoo_dir)["complete"]

    proc = start_tinyzoo(*args, "--workers", "2")
    try:
        deadline = time.monotonic() + 120
        while not (tasks := ray_task_pids(proc.pid)):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no Ray task started within 120 s"
            time.sleep(0.05)
        time.sleep(1.0)  # importing JAX, compiling, training: the shard is not written yet
        shards_at_kill = len(shard_hashes(zoo_dir))
        os.kill(tasks[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        kill_session(proc.pid)
    return {"zoo_dir": str(zoo_dir), "done_before": done_before,
            "complete_after_kill": complete_after_kill, "shards_at_kill": shards_at_kill,
            "returncode": proc.returncode, "out": out, "err": err}


@needs_ray
def test_a_ray_build_with_a_worker_killed_mid_shard_equals_the_single_process_build(
        ray_resumed_build, reference):
    """A Ray build (two workers) whose first task is SIGKILLed before its shard is
    written: Ray retries it, the progress bar counts models, and the zoo is the
    single-process build bit for bit."""
    run = ray_resumed_build
    done = len(run["done_before"])
    done_groups = {int(i) for i in run["done_before"]}
    assert run["shards_at_kill"] < len(training_groups(TINY))
    assert run["returncode"] == 0, run["err"]
    models_done = sum(len(g.model_ids) for g in training_groups(TINY)
                      if g.index in done_groups)
    assert (f"built {len(training_groups(TINY)) - done} training groups "
            f"({TINY.num_models - models_done} models) on Ray tasks, {done} already done; "
            "zoo complete") in run["out"]
    assert "(ray)" in run["err"] and f"/{TINY.num_models} models" in run["err"]  # the bar
    same_zoo(Path(run["zoo_dir"]), reference)


@needs_ray
def test_a_killed_ray_driver_resumes_without_rebuilding(ray_resumed_build, reference):
    run = ray_resumed_build
    done_before = {int(i): sha for i, sha in run["done_before"].items()}
    assert 1 <= len(done_before) < len(training_groups(TINY))
    assert run["complete_after_kill"] is False
    assert run["returncode"] == 0, run["err"]
    assert f"{len(done_before)} already done; zoo complete" in run["out"]
    # the shards done before the kill were kept, not rewritten
    assert {i: shard_hashes(Path(run["zoo_dir"]))[i] for i in done_before} == done_before
    same_zoo(Path(run["zoo_dir"]), reference)
