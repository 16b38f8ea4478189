"""What a build will do and what it did: the groups it covers, the prepared folder, the
final manifest, and the progress bar; shared by the local and the Ray build.

The zoo's training groups are computed once per build (:class:`zoo_data.layout.ZooLayout`)
in :func:`plan_build` and passed down from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from zoo_builder.request import BuildRequest
from zoo_data.folder import complete_shards, finalize, prepare_zoo_dir
from zoo_data.layout import TrainingGroup, ZooLayout
from zoo_data.presets import ZooConfig

__all__ = ["BuildReport", "select_groups", "progress_bar", "BuildPlan", "plan_build",
           "finish_build"]


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
