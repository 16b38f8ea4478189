"""Build a zoo across machines with Ray: one Ray task per training group (its shards).

The driver (the process running ``tinyzoo build --backend ray``) prepares the output
folder, submits one task for every training group of the selection whose shard is not
complete yet, shows the overall progress, and writes the final manifest once every
shard of the zoo is complete and its sha256 verified. Each task trains its group with
:func:`zoo_builder.train.train_group` (on every device Ray gives it) and writes the shards
and their sidecars atomically into the output folder itself, so the folder must be one that
every node sees at the same path (local disk for a one-machine cluster, a shared
filesystem otherwise); nothing but the files' sha256 travels back to the driver.

Failures:

- a task whose worker process dies (killed, out of memory, node lost) is retried by Ray
  up to ``max_retries`` times; a retried task whose shard was completed meanwhile only
  re-checks it;
- an exception raised by the task itself (a bug, a full disk) is not retried: the
  driver cancels the remaining tasks and reports it;
- if the driver itself dies, re-running the same command resumes: complete shards are
  verified and never rebuilt.

A model's weights do not depend on which task, worker or machine trained it (training
groups are a function of the config), so a Ray build equals a single-process build on
the same hardware and software.

Ray is optional (``pip install 'tiny-rnn-zoo[ray]'``) and imported only here.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

from zoo_builder.plan import BuildPlan, BuildReport, finish_build, plan_build, progress_bar
from zoo_builder.request import BuildRequest
from zoo_builder.shards import write_shard
from zoo_builder.train import train_group
from zoo_data.archive.folder import complete_group
from zoo_data.archive.layout import ZooLayout
from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import ZooConfig

__all__ = ["run_ray_build", "import_ray", "build_group_task", "GroupProgress"]

#: Ray's own retries of a task whose worker process died.
DEFAULT_MAX_RETRIES = 3


def import_ray():
    """The ``ray`` module, or a :class:`TinyZooError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise TinyZooError(
            "backend 'ray' needs Ray, which is not installed: "
            "pip install 'tiny-rnn-zoo[ray]'"
        ) from None
    return ray


class GroupProgress:
    """A Ray actor holding, per running group, how many models' worth of steps are done
    (``steps done / config.steps * models``); tasks report to it, the driver polls it."""

    def __init__(self) -> None:
        self.models: dict[int, float] = {}

    def start(self, group: int) -> None:
        self.models[group] = 0.0  # a retried task starts again from zero

    def add(self, group: int, models: float) -> None:
        self.models[group] = self.models.get(group, 0.0) + models

    def snapshot(self) -> dict[int, float]:
        return dict(self.models)


def build_group_task(zoo_dir: str, config_dict: dict, group_index: int,
                     progress=None) -> tuple[int, dict[str, str]]:
    """Train group ``group_index`` of the zoo ``config_dict`` and write its shards into
    ``zoo_dir`` (skipped if already complete) -> ``(group_index, {file name: sha256})``.

    Runs inside a Ray worker (as the task ``build_group_task``); ``progress`` is a
    :class:`GroupProgress` actor handle or ``None``."""
    config = ZooConfig.from_dict(config_dict)
    layout = ZooLayout.of(config)
    shas = complete_group(zoo_dir, layout, group_index)
    if shas is not None:
        return group_index, shas
    group = layout.groups[group_index]
    on_steps = None
    if progress is not None:
        progress.start.remote(group_index)
        share = len(group.model_ids) / config.steps

        def on_steps(n: int) -> None:
            progress.add.remote(group_index, n * share)

    result = train_group(config, group, on_steps=on_steps)
    return group_index, write_shard(Path(zoo_dir), layout, group_index, result)


def _start_ray(ray, address: str | None, workers: int | None) -> bool:
    """Connect to the cluster at ``address``, or start a local instance with ``workers``
    CPUs (default: all). Returns whether this call started Ray (and must stop it)."""
    if ray.is_initialized():
        return False
    common = dict(include_dashboard=False, log_to_driver=False, logging_level="error",
                  configure_logging=True)
    try:
        with warnings.catch_warnings():
            # Ray starts its processes with fork+exec, which is safe beside JAX's threads
            warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called",
                                    category=RuntimeWarning)
            if address is not None:
                ray.init(address=address, **common)
            else:
                ray.init(num_cpus=workers or os.cpu_count(),
                         object_store_memory=128 * 2**20, **common)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"address {address!r}" if address else "a local Ray instance"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TinyZooError(f"{where}: cannot start Ray ({first_line})") from None
    return True


def _describe(exc: BaseException) -> str:
    text = str(getattr(exc, "cause", None) or exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def run_ray_build(request: BuildRequest, max_retries: int = DEFAULT_MAX_RETRIES,
                  progress: bool = True) -> BuildReport:
    """Carry out a ray ``request`` (checked already): plan on the driver, one task per
    group still to build, the manifest written by the driver at the end."""
    ray = import_ray()  # before anything is written
    request = dataclasses.replace(request, out=request.out.resolve())
    with plan_build(request) as plan:
        sizes = {g.index: len(g.model_ids) for g in plan.groups}
        started = _start_ray(ray, request.address, request.workers) if plan.todo else False
        try:
            if plan.todo:
                _run_tasks(ray, plan, request.config, sizes, request.cpus_per_task,
                           request.gpus_per_task, max_retries, progress)
        finally:
            if started:
                ray.shutdown()
        return finish_build(plan)


def _run_tasks(ray, plan: BuildPlan, config: ZooConfig, sizes: dict[int, int],
               cpus_per_task: float, gpus_per_task: float, max_retries: int,
               progress: bool) -> None:
    zoo_dir = plan.zoo_dir
    finished_models = plan.models_total - plan.models_todo
    tracker = ray.remote(num_cpus=0)(GroupProgress).remote()
    task = ray.remote(build_group_task).options(
        name="build_group_task", num_cpus=cpus_per_task, num_gpus=gpus_per_task,
        max_retries=max_retries, retry_exceptions=False,
    )
    config_dict = config.to_dict()
    pending = {task.remote(str(zoo_dir), config_dict, g.index, tracker): g.index
               for g in plan.todo}
    finished: set[int] = set()
    bar = progress_bar(config, plan.models_total, finished_models, progress, suffix=" (ray)")
    with bar:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                index = pending.pop(ref)
                try:
                    ray.get(ref)
                except Exception as exc:  # RayTaskError, WorkerCrashedError, ...
                    for other in pending:
                        ray.cancel(other, force=True)
                    raise TinyZooError(
                        f"{zoo_dir}: training group {index} failed "
                        f"({type(exc).__name__}: {_describe(exc)}); complete shards are "
                        "kept, re-run the same command to resume"
                    ) from None
                finished.add(index)
                finished_models += sizes[index]
            running = ray.get(tracker.snapshot.remote())
            partial = sum(min(v, sizes[i]) for i, v in running.items() if i not in finished)
            bar.n = finished_models + partial
            bar.refresh()
