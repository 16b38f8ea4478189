"""What a build will do and what it did: the groups it covers, the prepared folder, the
final manifest, and the progress bar; shared by the local and the Ray build.

The zoo's training groups are computed once per build (:class:`zoo_data.archive.layout.ZooLayout`)
in :func:`plan_build` and passed down from there.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import filelock

from zoo_builder.request import BuildRequest
from zoo_data.archive.folder import complete_shards, finalize, prepare_zoo_dir
from zoo_data.archive.layout import TrainingGroup, ZooLayout
from zoo_data.common.progress import Progress
from zoo_data.common.progress import progress_bar as _progress
from zoo_data.errors import TinyZooError
from zoo_data.rnn.presets import ZooConfig

__all__ = ["BuildReport", "select_groups", "progress_bar", "BuildPlan", "plan_build",
           "finish_build", "LOCK_DIR"]

#: Hidden folder of a zoo holding its build locks (never part of what is published).
LOCK_DIR = ".locks"


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
                 suffix: str = "") -> Progress:
    """The build's progress (:func:`zoo_data.common.progress.progress_bar`): models done
    (fractions count steps), models/s, ETA; a bar on a terminal, otherwise a line at
    every tenth of the zoo and at least once a minute."""
    return _progress(
        total, f"building {config.preset} zoo{suffix}", "model", enabled=enabled,
        initial=initial,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} models "
        "[{elapsed}<{remaining}, {rate_fmt}]",
    )


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


@contextlib.contextmanager
def plan_build(request: BuildRequest) -> Iterator[BuildPlan]:
    """Prepare the request's folder (:func:`zoo_data.archive.folder.prepare_zoo_dir`), take the
    lock of its set of groups, then list the selected groups and those whose shard is
    not complete yet; the lock is held until the ``with`` block ends.

    The lock is ``ZOO_DIR/.locks/build-<sha256 of the group indices>[:16].lock``, taken
    without waiting (an OS file lock, released when the process ends, even by a kill):
    a second build of the same groups into the same folder is refused with one line,
    while builds of other groups (``--shard i/N`` slices, ``--models a:b``) run in
    parallel into one shared folder, as on a SLURM array. What is still to do is read
    under the lock, so a build that starts after another ended skips its work.

    Raises:
      TinyZooError: if another process holds the lock.
    """
    layout = ZooLayout.of(request.config)
    zoo_dir = prepare_zoo_dir(request.out, layout)
    groups = select_groups(layout, request.shard, request.models)
    indices = ",".join(str(g.index) for g in groups)
    digest = hashlib.sha256(indices.encode()).hexdigest()[:16]
    lock_dir = zoo_dir / LOCK_DIR
    lock_dir.mkdir(exist_ok=True)
    path = lock_dir / f"build-{digest}.lock"
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TinyZooError(
            f"{zoo_dir}: another build of the same {len(groups)} training groups is "
            f"running (it holds {path}); wait for it to finish, or build other groups "
            "with --shard i/N"
        ) from None
    try:
        done = complete_shards(zoo_dir, layout)
        yield BuildPlan(zoo_dir, layout, groups, [g for g in groups if g.index not in done])
    finally:
        lock.release()


def finish_build(plan: BuildPlan, devices: int = 1) -> BuildReport:
    """Write the final manifest if every group of the zoo now has a complete shard
    (:func:`zoo_data.archive.folder.finalize` re-hashes them); report what the build did."""
    complete = len(complete_shards(plan.zoo_dir, plan.layout)) == len(plan.layout.groups)
    if complete:
        finalize(plan.zoo_dir, plan.layout)
    return BuildReport(plan.zoo_dir, len(plan.todo), len(plan.groups) - len(plan.todo),
                       plan.models_todo, complete, devices)
