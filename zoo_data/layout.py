"""Where a zoo's models live: its training groups, one Parquet shard per group, and the
names of the files in a zoo folder.

A *training group* is a fixed set of models that share a batch size; they are trained
together and archived together as one shard. Groups are a function of the zoo config
alone (models of each batch size in id order, chunked by ``group_size``), never of how a
build is split, so every model is always computed with the same companions and stored
in the same shard, whichever machine or resume point builds it.

A zoo folder ``DIR`` holds ``DIR/manifest.json`` (:mod:`zoo_data.manifest`),
``DIR/README.md`` (the dataset card, :mod:`zoo_data.card`), and under ``DIR/data/`` for
group ``g`` of ``G`` the shard ``train-{g:05d}-of-{G:05d}.parquet`` and its hidden
sidecar ``.train-{g:05d}-of-{G:05d}.json`` (:mod:`zoo_data.folder`). Shard names follow
the Hub's sharded-split convention; the sidecar is hidden because ``datasets``' Parquet
loader reads every visible file of a data folder.

:class:`ZooLayout` computes the groups once; everything that walks a zoo's shards (a
build, a download, a verification) is handed one layout and passes it down.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_data.hparams import model_hparams
from zoo_data.presets import ZooConfig

__all__ = [
    "MANIFEST",
    "CARD",
    "DATA",
    "TrainingGroup",
    "training_groups",
    "shard_name",
    "sidecar_name",
    "ZooLayout",
]

MANIFEST = "manifest.json"
CARD = "README.md"
DATA = "data"


@dataclass(frozen=True)
class TrainingGroup:
    """Models trained together: ``index`` in the zoo's group list, their batch size, ids."""

    index: int
    batch_size: int
    model_ids: tuple[int, ...]


def training_groups(config: ZooConfig) -> tuple[TrainingGroup, ...]:
    """The zoo's training groups: models of each batch size, in id order, chunked by
    ``group_size``. A function of the config only."""
    by_batch: dict[int, list[int]] = {bs: [] for bs in config.batch_sizes}
    for i in range(config.num_models):
        by_batch[model_hparams(config, i).batch_size].append(i)
    groups = []
    for bs in config.batch_sizes:
        ids = by_batch[bs]
        for start in range(0, len(ids), config.group_size):
            chunk = tuple(ids[start : start + config.group_size])
            groups.append(TrainingGroup(len(groups), bs, chunk))
    return tuple(groups)


def shard_name(group_index: int, num_groups: int) -> str:
    """``"train-00042-of-00120.parquet"`` for training group 42 of 120."""
    return f"train-{group_index:05d}-of-{num_groups:05d}.parquet"


def sidecar_name(group_index: int, num_groups: int) -> str:
    """``".train-00042-of-00120.json"``: the (hidden) sidecar of group 42's shard."""
    return f".train-{group_index:05d}-of-{num_groups:05d}.json"


@dataclass(frozen=True)
class ZooLayout:
    """A zoo config with its training groups, computed once (:meth:`of`).

    Attributes:
      config: the zoo's config.
      groups: :func:`training_groups` of it, in index order.
    """

    config: ZooConfig
    groups: tuple[TrainingGroup, ...]

    @classmethod
    def of(cls, config: ZooConfig) -> ZooLayout:
        return cls(config, training_groups(config))

    def shard_name(self, group_index: int) -> str:
        return shard_name(group_index, len(self.groups))

    def rows(self, group_index: int) -> int:
        """Rows of group ``group_index``'s shard: its models times the checkpoints per
        model (:attr:`zoo_data.presets.ZooConfig.rows_per_model`)."""
        return len(self.groups[group_index].model_ids) * self.config.rows_per_model

    def sidecar_name(self, group_index: int) -> str:
        return sidecar_name(group_index, len(self.groups))

    @property
    def shard_names(self) -> list[str]:
        """Every shard's file name, in group order."""
        return [self.shard_name(g.index) for g in self.groups]
