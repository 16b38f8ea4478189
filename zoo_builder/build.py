"""Build a zoo (or a slice of it) into a folder: resumable, shardable, with progress.

:func:`run_build` carries out a :class:`~zoo_builder.request.BuildRequest`: it trains
every training group of the selected slice whose shard is not yet complete in the
folder, writes each group's shard atomically as soon as it is done, and writes the
final manifest once every group of the zoo has a complete shard. A killed build re-run
with the same request continues where it stopped; N machines given ``shard=(i, N)``
build disjoint slices of one zoo into one (shared) folder. The zoo's training groups
are computed once per build (:class:`zoo_data.layout.ZooLayout`) and passed down.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tqdm.auto import tqdm

from zoo_builder.devices import select_devices
from zoo_builder.request import BuildRequest
from zoo_builder.shards import GroupResult, write_shard
from zoo_builder.train import train_group
from zoo_data.folder import complete_shards, finalize, prepare_zoo_dir
from zoo_data.layout import TrainingGroup, ZooLayout
from zoo_data.presets import ZooConfig

__all__ = [
    "BuildReport",
    "select_groups",
    "progress_bar",
    "BuildPlan",
    "plan_build",
    "finish_build",
    "build_zoo",
    "run_build",
]


@dataclass(frozen=True)
class BuildReport:
    zoo_dir: Path
    groups_built: int
    groups_skipped: int
    models_built: int
    complete: bool
    devices: int = 1


def select_groups(
    layout: ZooLayout, shard: tuple[int, int] | None = None,
    models: tuple[int, int] | None = None,
) -> list[TrainingGroup]:
    """The training groups a build covers.

    ``shard=(i, N)`` takes every N-th group starting at i (round robin, so slices get a
    similar mix of batch sizes). ``models=(a, b)`` takes the groups holding any model in
    ``[a, b)``: a group is the unit of training and of the archive, so its other models
    are built too (their weights do not depend on this choice).
    """
    groups = list(layout.groups)
    if shard is not None:
        i, n = shard
        groups = [g for g in groups if g.index % n == i]
    if models is not None:
        a, b = models
        groups = [g for g in groups if any(a <= m < b for m in g.model_ids)]
    return groups


def progress_bar(config: ZooConfig, total: int, initial: float, enabled: bool,
                 suffix: str = "") -> tqdm:
    """The build's progress bar: models done (fractions count steps), models/s, ETA."""
    return tqdm(
        total=total,
        initial=initial,
        unit="model",
        desc=f"building {config.preset} zoo{suffix}",
        disable=not enabled,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} models "
        "[{elapsed}<{remaining}, {rate_fmt}]",
    )


def _trained_groups(
    config: ZooConfig, todo: list[TrainingGroup], workers: int, on_steps: Callable,
    devices: tuple,
) -> Iterator[tuple[TrainingGroup, GroupResult]]:
    """Train ``todo``, yielding each group with its result as it finishes.

    With ``workers > 1``, that many daemon threads train groups concurrently (XLA runs
    outside the GIL, and one small group does not keep two cores busy); results come
    back in completion order. The threads are daemons so that an interrupt of the main
    thread ends the process at once instead of waiting for running groups.
    """
    if workers <= 1:
        for group in todo:
            yield group, train_group(config, group, on_steps=partial(on_steps, group),
                                     devices=devices)
        return
    tasks: queue.Queue = queue.Queue()
    for group in todo:
        tasks.put(group)
    results: queue.Queue = queue.Queue()

    def work() -> None:
        while True:
            try:
                group = tasks.get_nowait()
            except queue.Empty:
                return
            try:
                results.put((group, train_group(config, group,
                                                on_steps=partial(on_steps, group),
                                                devices=devices)))
            except BaseException as exc:  # handed to the main thread
                results.put((group, exc))
                return

    for _ in range(min(workers, len(todo))):
        threading.Thread(target=work, daemon=True).start()
    for _ in range(len(todo)):
        group, result = results.get()
        if isinstance(result, BaseException):
            raise result
        yield group, result


@dataclass(frozen=True)
class BuildPlan:
    """What a build will do: the prepared ``zoo_dir``, the zoo's ``layout``, the
    ``groups`` the build covers and those of them still ``todo`` (no complete shard
    yet)."""

    zoo_dir: Path
    layout: ZooLayout
    groups: list[TrainingGroup]
    todo: list[TrainingGroup]

    @property
    def models_total(self) -> int:
        return sum(len(g.model_ids) for g in self.groups)

    @property
    def models_todo(self) -> int:
        return sum(len(g.model_ids) for g in self.todo)


def plan_build(request: BuildRequest) -> BuildPlan:
    """Prepare the request's folder (:func:`zoo_data.folder.prepare_zoo_dir`) and list
    the selected groups and those whose shard is not complete yet."""
    layout = ZooLayout.of(request.config)
    zoo_dir = prepare_zoo_dir(request.out, layout)
    groups = select_groups(layout, request.shard, request.models)
    done = complete_shards(zoo_dir, layout)
    return BuildPlan(zoo_dir, layout, groups, [g for g in groups if g.index not in done])


def finish_build(plan: BuildPlan, devices: int = 1) -> BuildReport:
    """Write the final manifest if every group of the zoo now has a complete shard
    (:func:`zoo_data.folder.finalize` re-hashes them); report what the build did."""
    complete = len(complete_shards(plan.zoo_dir, plan.layout)) == len(plan.layout.groups)
    if complete:
        finalize(plan.zoo_dir, plan.layout)
    return BuildReport(plan.zoo_dir, len(plan.todo), len(plan.groups) - len(plan.todo),
                       plan.models_todo, complete, devices)


def run_build(
    request: BuildRequest,
    progress: bool = True,
    after_group: Callable[[TrainingGroup], None] | None = None,
) -> BuildReport:
    """Carry out ``request`` (see the module docstring) on its backend.

    Local: ``request.workers`` groups train concurrently; shards are written by the
    calling thread as groups finish. Each group's model blocks are sharded over the
    first ``request.devices`` local devices (default: all;
    :class:`zoo_builder.programs.GroupPrograms`). The zoo is bitwise the same for every
    value of both, and on Ray (:mod:`zoo_builder.ray_build`). ``after_group`` (local
    only) is called after each shard is written.
    """
    if request.backend == "ray":
        from zoo_builder.ray_build import run_ray_build

        return run_ray_build(request, progress=progress)
    device_list = select_devices(request.devices)
    config = request.config
    plan = plan_build(request)
    bar = progress_bar(config, plan.models_total, plan.models_total - plan.models_todo,
                       progress)
    lock = threading.Lock()

    def on_steps(group: TrainingGroup, n: int) -> None:
        with lock:
            bar.update(n * len(group.model_ids) / config.steps)

    with bar:
        for group, result in _trained_groups(config, plan.todo, request.workers or 1,
                                             on_steps, device_list):
            write_shard(plan.zoo_dir, plan.layout, group.index, result)
            if after_group is not None:
                after_group(group)
    return finish_build(plan, len(device_list))


def build_zoo(
    out: Path | str,
    config: ZooConfig,
    shard: tuple[int, int] | None = None,
    models: tuple[int, int] | None = None,
    progress: bool = True,
    after_group: Callable[[TrainingGroup], None] | None = None,
    workers: int = 1,
    devices: int | None = None,
) -> BuildReport:
    """Build the selected slice of ``config``'s zoo into ``out`` in this process:
    :func:`run_build` of the local :class:`~zoo_builder.request.BuildRequest` with these
    fields."""
    request = BuildRequest(out=out, config=config, shard=shard, models=models,
                           workers=workers, devices=devices)
    return run_build(request, progress=progress, after_group=after_group)
