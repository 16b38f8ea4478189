"""Build a zoo (or a slice of it) into a folder: resumable, shardable, with progress.

``build_zoo`` trains every training group of the selected slice whose shard is not yet
complete in the folder, writes each group's shard atomically as soon as it is done,
and writes the final manifest once every group of the zoo has a complete shard. A
killed build re-run with the same command continues where it stopped; N machines given
``shard=(i, N)`` build disjoint slices of one zoo into one (shared) folder.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tqdm.auto import tqdm

from zoo_builder.archive import complete_shards, finalize, prepare_zoo_dir, write_shard
from zoo_builder.presets import ZooConfig
from zoo_builder.train import (
    GroupResult,
    TrainingGroup,
    select_devices,
    train_group,
    training_groups,
)

__all__ = [
    "BuildReport",
    "parse_shard",
    "parse_models",
    "select_groups",
    "progress_bar",
    "BuildPlan",
    "plan_build",
    "finish_build",
    "build_zoo",
]


@dataclass(frozen=True)
class BuildReport:
    zoo_dir: Path
    groups_built: int
    groups_skipped: int
    models_built: int
    complete: bool
    devices: int = 1


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/N"`` with ``0 <= i < N`` -> ``(i, N)``; ``ValueError`` naming the value otherwise."""
    head, sep, tail = text.partition("/")
    if not sep or not head.strip().isdigit() or not tail.strip().isdigit():
        raise ValueError(f"--shard {text!r}: expected i/N, e.g. 0/4")
    i, n = int(head), int(tail)
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: need 0 <= i < N")
    return i, n


def parse_models(text: str, num_models: int) -> tuple[int, int]:
    """``"a:b"`` -> ``(a, b)`` with ``0 <= a < b <= num_models``."""
    head, sep, tail = text.partition(":")
    try:
        a = int(head) if head.strip() else 0
        b = int(tail) if tail.strip() else num_models
    except ValueError:
        raise ValueError(f"--models {text!r}: expected a:b, e.g. 0:100") from None
    if not sep or not 0 <= a < b <= num_models:
        raise ValueError(f"--models {text!r}: need 0 <= a < b <= {num_models} (the zoo's size)")
    return a, b


def select_groups(
    config: ZooConfig, shard: tuple[int, int] | None = None, models: tuple[int, int] | None = None
) -> list[TrainingGroup]:
    """The training groups a build covers.

    ``shard=(i, N)`` takes every N-th group starting at i (round robin, so slices get a
    similar mix of batch sizes). ``models=(a, b)`` takes the groups holding any model in
    ``[a, b)``: a group is the unit of training and of the archive, so its other models
    are built too (their weights do not depend on this choice).
    """
    groups = list(training_groups(config))
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
    """What a build will do: the prepared ``zoo_dir``, the ``groups`` it covers and those
    of them still ``todo`` (no complete shard yet)."""

    zoo_dir: Path
    groups: list[TrainingGroup]
    todo: list[TrainingGroup]

    @property
    def models_total(self) -> int:
        return sum(len(g.model_ids) for g in self.groups)

    @property
    def models_todo(self) -> int:
        return sum(len(g.model_ids) for g in self.todo)


def plan_build(out: Path | str, config: ZooConfig, shard: tuple[int, int] | None,
               models: tuple[int, int] | None) -> BuildPlan:
    """Prepare ``out`` for ``config`` (:func:`zoo_builder.archive.prepare_zoo_dir`) and
    list the selected groups and those whose shard is not complete yet."""
    zoo_dir = prepare_zoo_dir(Path(out), config)
    groups = select_groups(config, shard, models)
    done = complete_shards(zoo_dir, config)
    return BuildPlan(zoo_dir, groups, [g for g in groups if g.index not in done])


def finish_build(plan: BuildPlan, config: ZooConfig, devices: int = 1) -> BuildReport:
    """Write the final manifest if every group of the zoo now has a complete shard
    (:func:`zoo_builder.archive.finalize` re-hashes them); report what the build did."""
    complete = len(complete_shards(plan.zoo_dir, config)) == len(training_groups(config))
    if complete:
        finalize(plan.zoo_dir, config)
    return BuildReport(plan.zoo_dir, len(plan.todo), len(plan.groups) - len(plan.todo),
                       plan.models_todo, complete, devices)


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
    """Build the selected slice of the zoo into ``out`` (see the module docstring).

    ``workers`` groups train concurrently; shards are written by the calling thread as
    groups finish. Each group's model blocks are sharded over the first ``devices``
    local devices (default: all; :class:`zoo_builder.train.GroupPrograms`). The zoo is
    bitwise the same for every value of both.
    """
    if workers < 1:
        raise ValueError(f"--workers {workers}: need at least 1")
    device_list = select_devices(devices)
    plan = plan_build(out, config, shard, models)
    bar = progress_bar(config, plan.models_total, plan.models_total - plan.models_todo,
                       progress)
    lock = threading.Lock()

    def on_steps(group: TrainingGroup, n: int) -> None:
        with lock:
            bar.update(n * len(group.model_ids) / config.steps)

    with bar:
        for group, result in _trained_groups(config, plan.todo, workers, on_steps,
                                             device_list):
            write_shard(plan.zoo_dir, config, group.index, result)
            if after_group is not None:
                after_group(group)
    return finish_build(plan, config, len(device_list))
