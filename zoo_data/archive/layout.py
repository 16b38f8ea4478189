"""Where a zoo's models live: its training groups, the Parquet files each group is
archived in, and the names of the files in a zoo folder.

A *training group* is a fixed set of models trained together and archived together.
Groups are a function of the zoo config alone (the family's,
:meth:`zoo_data.families.base.ZooFamily.training_groups`: in a Tiny RNN Zoo the models
of each batch size in id order, chunked by ``group_size``; else chunks of
``group_size`` ids), never of how a build is split, so every model is always computed
with the same companions and stored in the same files, whichever machine or resume
point builds it.

A zoo folder ``DIR`` holds ``DIR/manifest.json`` (:mod:`zoo_data.archive.manifest`),
``DIR/README.md`` (the dataset card, :mod:`zoo_data.archive.card`) and the shards under
``DIR/data/``. Their names follow the Hub's sharded-split convention
``{split}-{g:05d}-of-{G:05d}.parquet``, so ``datasets`` and the Hub viewer find the
splits from the names alone:

- **format 2** (:data:`FORMAT_VERSION`): group ``g`` of ``G`` is
  archived as up to three files, one per split that has models in it:
  ``train-…``, ``validation-…`` and ``test-…`` (:data:`HUB_SPLITS`), each holding the
  group's rows of that split in the group's row order. Splits are contiguous id ranges
  (:mod:`zoo_data.archive.splits`) and a group's ids ascend, so each file is a contiguous run of
  the group's rows. A split without models in a group has no file there.
- **format 1** (older zoos, still read): one file ``train-{g:05d}-of-{G:05d}.parquet`` per
  group holding all its rows, so ``datasets`` sees one ``train`` split of every row;
  ``tinyzoo migrate`` (:mod:`zoo_data.archive.migrate`) converts such a zoo in place.

Every shard has a hidden sidecar ``.{stem}.json`` beside it (:mod:`zoo_data.archive.folder`);
it is hidden because ``datasets``' Parquet loader reads every visible file of a data
folder. :class:`ZooLayout` computes the groups and their files once; everything that
walks a zoo's shards (a build, a download, a verification, a migration) is handed one
layout and passes it down.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_data.archive.splits import SPLITS, split_ranges
from zoo_data.families.base import TrainingGroup, ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = [
    "MANIFEST",
    "CARD",
    "DATA",
    "MIGRATION_DIR",
    "FORMAT_VERSION",
    "FORMAT_VERSIONS",
    "MAX_MODELS",
    "MAX_GROUPS",
    "HUB_SPLITS",
    "TrainingGroup",
    "ShardFile",
    "training_groups",
    "shard_name",
    "sidecar_name",
    "ZooLayout",
]

MANIFEST = "manifest.json"
CARD = "README.md"
DATA = "data"
#: Hidden folder of a zoo holding an unfinished migration (:mod:`zoo_data.archive.migrate`).
MIGRATION_DIR = ".migrate"

#: The archive format new zoos are written in (see the module docstring).
FORMAT_VERSION = 2
#: The formats this code reads.
FORMAT_VERSIONS = (1, 2)

#: The most models (runs) and the most training groups a zoo may have: bounds of every
#: config (a Tiny RNN Zoo's :func:`zoo_data.rnn.presets.check_config`) and of the
#: manifest's fields, so that no file can make planning or reading a zoo hang.
MAX_MODELS = 100_000
MAX_GROUPS = 10_000

#: The Hub's split keyword (in file names and ``DatasetDict`` keys) of each zoo split.
HUB_SPLITS = {"train": "train", "val": "validation", "test": "test"}


@dataclass(frozen=True)
class ShardFile:
    """One Parquet file of a zoo: rows ``start .. start + rows`` of training group
    ``group``'s rows (run-major, :mod:`zoo_data.archive.schema`), those of the models
    ``model_ids``.

    Attributes:
      name: the file name in ``data/``.
      group: the training group's index.
      split: the zoo split of its rows (``"train"``, ``"val"``, ``"test"``), or ``None``
        for a format-1 file (every row of the group).
      model_ids: the models (runs) whose rows it holds, ascending.
      start: its first row's position in the group's rows.
      rows: its row count (models times checkpoints per model).
    """

    name: str
    group: int
    split: str | None
    model_ids: tuple[int, ...]
    start: int
    rows: int

    @property
    def sidecar(self) -> str:
        """The hidden sidecar's name: ``".train-00042-of-00120.json"``."""
        return "." + self.name.removesuffix(".parquet") + ".json"


def training_groups(config: ZooConfigLike) -> tuple[TrainingGroup, ...]:
    """The zoo's training groups, a function of the config only: its family's
    (:meth:`~zoo_data.families.base.ZooFamily.training_groups`) or, if the family has
    none, chunks of ``group_size`` ids in id order, batch size 0."""
    own = family_of(config).training_groups(config)
    if own is not None:
        return tuple(own)
    return tuple(
        TrainingGroup(k, 0, tuple(range(start, min(start + config.group_size,
                                                   config.num_models))))
        for k, start in enumerate(range(0, config.num_models, config.group_size)))


def shard_name(group_index: int, num_groups: int, split: str = "train") -> str:
    """``"validation-00042-of-00120.parquet"``: the file of zoo split ``split``
    (``"train"``, ``"val"``, ``"test"``) of training group 42 of 120 (format 1: the
    default, ``"train-…"``, holds the whole group)."""
    return f"{HUB_SPLITS[split]}-{group_index:05d}-of-{num_groups:05d}.parquet"


def sidecar_name(group_index: int, num_groups: int, split: str = "train") -> str:
    """``".validation-00042-of-00120.json"``: the hidden sidecar of that file."""
    return f".{HUB_SPLITS[split]}-{group_index:05d}-of-{num_groups:05d}.json"


def _group_files(config: ZooConfigLike, group: TrainingGroup, num_groups: int,
                 format_version: int) -> tuple[ShardFile, ...]:
    c = config.rows_per_model
    if format_version == 1:
        return (ShardFile(shard_name(group.index, num_groups), group.index, None,
                          group.model_ids, 0, len(group.model_ids) * c),)
    files, start = [], 0
    for split, (lo, hi) in split_ranges(config).items():
        ids = tuple(i for i in group.model_ids if lo <= i < hi)
        if ids:
            files.append(ShardFile(shard_name(group.index, num_groups, split), group.index,
                                   split, ids, start, len(ids) * c))
            start += len(ids) * c
    return tuple(files)


@dataclass(frozen=True)
class ZooLayout:
    """A zoo config with its training groups and their files, computed once (:meth:`of`).

    Attributes:
      config: the zoo's config.
      groups: :func:`training_groups` of it, in index order.
      format_version: the archive format (:data:`FORMAT_VERSIONS`).
      files: every shard file, in group order and within a group in split order
        (``train``, ``val``, ``test``).
    """

    config: ZooConfigLike
    groups: tuple[TrainingGroup, ...]
    format_version: int = FORMAT_VERSION
    files: tuple[ShardFile, ...] = ()

    @classmethod
    def of(cls, config: ZooConfigLike, format_version: int = FORMAT_VERSION) -> ZooLayout:
        """The layout of ``config``'s zoo in archive format ``format_version``."""
        if format_version not in FORMAT_VERSIONS:
            raise ValueError(f"format version {format_version}: this code knows "
                             f"{', '.join(map(str, FORMAT_VERSIONS))}")
        groups = training_groups(config)
        files = tuple(f for g in groups
                      for f in _group_files(config, g, len(groups), format_version))
        return cls(config, groups, format_version, files)

    def rows(self, group_index: int) -> int:
        """Rows of group ``group_index`` (in all its files): its models times the
        checkpoints per model (:attr:`~zoo_data.families.base.ZooConfigLike.rows_per_model`)."""
        return len(self.groups[group_index].model_ids) * self.config.rows_per_model

    def group_files(self, group_index: int) -> tuple[ShardFile, ...]:
        """The files of group ``group_index``, in split order."""
        return tuple(f for f in self.files if f.group == group_index)

    @property
    def shard_names(self) -> list[str]:
        """Every shard's file name, in :attr:`files` order."""
        return [f.name for f in self.files]

    @property
    def sidecar_names(self) -> list[str]:
        """Every shard's sidecar name, in :attr:`files` order."""
        return [f.sidecar for f in self.files]

    def split_rows(self) -> dict[str, int]:
        """``{Hub split: rows}`` of the zoo (format 2; format 1 has one ``train``
        split of every row)."""
        if self.format_version == 1:
            return {"train": self.config.num_rows}
        out = {HUB_SPLITS[s]: 0 for s in SPLITS}
        for f in self.files:
            out[HUB_SPLITS[f.split]] += f.rows
        return out
