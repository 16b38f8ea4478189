"""Build a zoo (or a slice of it) into a folder: resumable, shardable, with progress.

:func:`run_build` carries out a :class:`~zoo_builder.request.BuildRequest`: it trains
every training group of the selected slice whose shard is not yet complete in the
folder, writes each group's shard atomically as soon as it is done, and writes the
final manifest once every group of the zoo has a complete shard. A killed build re-run
with the same request continues where it stopped; N machines given ``shard=(i, N)``
build disjoint slices of one zoo into one (shared) folder. The zoo's training groups
are computed once per build (:class:`zoo_data.archive.layout.ZooLayout`) and passed down.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from zoo_builder.devices import select_devices
from zoo_builder.plan import BuildReport, finish_build, plan_build, progress_bar
from zoo_builder.request import BuildRequest
from zoo_builder.shards import GroupResult, write_shard
from zoo_builder.train import train_group
from zoo_data.archive.layout import TrainingGroup
from zoo_data.rnn.presets import ZooConfig

__all__ = ["build_zoo", "run_build"]


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
    lock = threading.Lock()
    with plan_build(request) as plan:
        bar = progress_bar(config, plan.models_total, plan.models_total - plan.models_todo,
                           progress)

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
