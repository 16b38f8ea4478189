"""The config of an imported Small CNN Zoo: which published data, which checkpoint,
which split; what a manifest records and fingerprints.

A Tiny RNN Zoo is defined by how it is trained (:class:`zoo_data.rnn.presets.ZooConfig`);
an imported zoo is defined by its source files and the choices made when importing
them. :class:`CNNZooConfig` holds those choices and the sha256 of every source file,
so two imports with equal configs hold the same rows, bit for bit.

Rows: one per network (training run) at the chosen checkpoint. Model ids are
contiguous per split (``train`` first, then ``val``, then ``test``, each in the order
of its split's definition, :mod:`zoo_data.cnn.splits`), so the data layer's splits are
id ranges as for every zoo; column ``source_index`` keeps each row's index in the
published ``weights.npy`` and ``metrics.csv.gz``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from zoo_data.cnn.layout import DATASETS
from zoo_data.common import fields
from zoo_data.errors import TinyZooError

__all__ = [
    "FAMILY",
    "SPLIT_METHODS",
    "NUMERIC_HYPERPARAMETERS",
    "CATEGORICAL_HYPERPARAMETERS",
    "METADATA_COLUMNS",
    "CNNZooConfig",
    "preset_name",
    "PRESET_NAMES",
]

#: The family name a CNN zoo's config carries (``config["family"]`` in its manifest).
FAMILY = "small-cnn-zoo"

#: ``nfn``: NFN's published split (Zhou et al., 2023; also neural-graphs and ScaleGMN);
#: ``runs``: ours, 80/10/10 by run (:mod:`zoo_data.cnn.splits`).
SPLIT_METHODS = ("nfn", "runs")



def preset_name(dataset: str, split: str) -> str:
    """The preset of an import of ``dataset`` with ``split``: ``small-cnn-<dataset>``
    (NFN's split) or ``small-cnn-<dataset>-<split>`` (ours)."""
    return f"small-cnn-{dataset}" + ("" if split == "nfn" else f"-{split}")


#: Every preset an import can have, by dataset (:data:`zoo_data.cnn.layout.DATASETS`'s
#: order), NFN's split before ours: the board's order.
PRESET_NAMES: tuple[str, ...] = tuple(preset_name(dataset, split) for dataset in DATASETS
                                      for split in SPLIT_METHODS)

#: Hyperparameters sampled per run that the archive keeps as float64 columns (the
#: published ``config.<name>`` columns); ``learning_rate``, ``l2reg`` and ``init_std``
#: are log-uniform in the zoo's design, ``dropout`` and ``train_fraction`` are not.
NUMERIC_HYPERPARAMETERS = ("learning_rate", "l2reg", "dropout", "init_std", "train_fraction")
#: Hyperparameters with named values, kept as string columns; the config lists each
#: one's values (sorted), and :meth:`CNNZooConfig.category_codes` numbers them.
CATEGORICAL_HYPERPARAMETERS = ("optimizer", "activation", "w_init", "b_init")

#: The metadata columns of an imported Small CNN Zoo, name -> ``datasets`` dtype:
#: ``test_sr`` is the network's published test accuracy at the checkpoint (the fraction
#: of test images it classifies correctly: its success rate on its task), ``test_loss``,
#: ``train_loss`` and ``train_accuracy`` the published ones; ``source_index`` the row
#: in the published files, ``modeldir`` the run's name there; then the hyperparameters.
METADATA_COLUMNS: dict[str, str] = {
    "model_id": "int64",
    "group": "int32",
    "source_index": "int64",
    "modeldir": "string",
    "test_sr": "float32",
    "test_loss": "float32",
    "train_loss": "float32",
    "train_accuracy": "float32",
    **{name: "float64" for name in NUMERIC_HYPERPARAMETERS},
    **{name: "string" for name in CATEGORICAL_HYPERPARAMETERS},
}

_MAX_NETWORKS = 300_000
_SHA = r"[0-9a-f]{64}"
_SOURCE_NAMES = ("weights.npy", "metrics.csv.gz", "layout.csv", "split.csv")


@dataclass(frozen=True)
class CNNZooConfig:
    """An imported Small CNN Zoo (module docstring).

    Attributes:
      dataset: one of :data:`zoo_data.cnn.layout.DATASETS`.
      checkpoint: the published ``step`` (an epoch: 0, 1, 2, 3, 20, 40, 60, 80, 86) of
        the rows kept; the default of an import is the last one.
      split: one of :data:`SPLIT_METHODS`.
      num_models: networks (rows) in the zoo.
      split_counts: ``(train, val, test)`` networks, summing to ``num_models``.
      group_size: rows per archive group (each group is one file per split it spans).
      categories: ``{name: sorted values}`` of :data:`CATEGORICAL_HYPERPARAMETERS`.
      sources: ``{file name: sha256}`` of the source files (``weights.npy``,
        ``metrics.csv.gz``, ``layout.csv`` and, for the NFN split, ``split.csv``).
      repeated_rows: rows of the split that repeat a source row (NFN's split file
        starts with a stray ``0``, its header, which NFN reads as an index; kept, as NFN
        does, and counted here).
    """

    family: ClassVar[str] = FAMILY
    rows_per_model: ClassVar[int] = 1
    checkpoints: ClassVar[None] = None
    varied: ClassVar[tuple[str, ...]] = ()

    dataset: str
    checkpoint: int
    split: str
    num_models: int
    split_counts: tuple[int, int, int]
    group_size: int = 5000
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    repeated_rows: int = 0

    def __post_init__(self) -> None:
        # canonical order, so equal choices give equal configs and fingerprints
        object.__setattr__(self, "split_counts", tuple(self.split_counts))
        object.__setattr__(self, "categories", tuple(sorted(
            (name, tuple(values)) for name, values in self.categories)))
        object.__setattr__(self, "sources", tuple(sorted(self.sources)))
        fields.one_of("dataset", self.dataset, DATASETS)
        fields.integer("checkpoint", self.checkpoint, 0, 10_000)
        fields.one_of("split", self.split, SPLIT_METHODS)
        fields.integer("num_models", self.num_models, 3, _MAX_NETWORKS)
        if (len(self.split_counts) != 3 or sum(self.split_counts) != self.num_models
                or min(self.split_counts) < 1):
            raise TinyZooError(f"split_counts {list(self.split_counts)}: need three "
                               f"positive counts summing to num_models {self.num_models}")
        fields.integer("group_size", self.group_size, 1, _MAX_NETWORKS)
        fields.integer("repeated_rows", self.repeated_rows, 0, _MAX_NETWORKS)
        names = [name for name, _ in self.categories]
        if sorted(names) != sorted(CATEGORICAL_HYPERPARAMETERS):
            raise TinyZooError(f"categories {names}: need exactly "
                               f"{', '.join(CATEGORICAL_HYPERPARAMETERS)}")
        for name, values in self.categories:
            if list(values) != sorted(set(values)) or not values:
                raise TinyZooError(f"categories.{name}: need its values, sorted, distinct")
        for name, sha in self.sources:
            fields.one_of("sources key", name, _SOURCE_NAMES)
            fields.text(f"sources.{name}", sha, _SHA, "64 lowercase hex digits")

    # -- what the data layer asks of every zoo config --------------------------------

    @property
    def preset(self) -> str:
        """The zoo's name in result files and on the board: ``small-cnn-<dataset>``
        (NFN split) or ``small-cnn-<dataset>-runs`` (ours)."""
        return preset_name(self.dataset, self.split)

    @property
    def steps(self) -> int:
        """The checkpoint's step (the data layer's ``step`` column)."""
        return self.checkpoint

    @property
    def num_rows(self) -> int:
        return self.num_models

    def split_sizes(self) -> dict[str, int]:
        """``{"train", "val", "test"}`` counts (:attr:`split_counts`)."""
        return dict(zip(("train", "val", "test"), self.split_counts, strict=True))

    def split_method_text(self) -> str:
        """How the split was made, as the manifest's ``splits.method`` records it."""
        if self.split == "nfn":
            return (f"NFN's split of {self.dataset} (AllanYangZhou/nfn split file) at step "
                    f"{self.checkpoint}: test the second half, train/val 80/20 of the first; "
                    "ids renumbered (zoo_data.cnn.splits)")
        return (f"80/10/10 by run at step {self.checkpoint}: runs ordered by sha256 of "
                "modeldir; ids renumbered (zoo_data.cnn.splits)")

    def category_codes(self, name: str) -> dict[str, int]:
        """``{value: code}`` of categorical hyperparameter ``name`` (codes follow the
        sorted values)."""
        values = dict(self.categories)[name]
        return {value: code for code, value in enumerate(values)}

    # -- JSON ----------------------------------------------------------------------

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["split_counts"] = list(self.split_counts)
        d["categories"] = {name: list(values) for name, values in self.categories}
        d["sources"] = dict(self.sources)
        return {"family": FAMILY, **d}

    @classmethod
    def from_dict(cls, d: dict) -> CNNZooConfig:
        """The config of a JSON object (a manifest's ``config``), every field checked.

        Raises:
          TinyZooError: one line naming the field at fault.
        """
        d = fields.config_object(d, (f.name for f in dataclasses.fields(cls)), (
            "dataset", "checkpoint", "split", "num_models", "split_counts"), FAMILY, True)
        d["split_counts"] = tuple(fields.int_list("split_counts", d["split_counts"], 1,
                                                  _MAX_NETWORKS, 3))
        categories = d.get("categories", {})
        if not isinstance(categories, dict):
            raise TinyZooError(f"config.categories {fields.show(categories)}: need an object")
        d["categories"] = tuple(
            (name, tuple(fields.text(f"categories.{name}", v, r"[^\x00-\x1f]{1,100}",
                                     "a value name") for v in values))
            for name, values in sorted(categories.items()) if isinstance(values, list)
        )
        sources = d.get("sources", {})
        if not isinstance(sources, dict):
            raise TinyZooError(f"config.sources {fields.show(sources)}: need an object")
        d["sources"] = tuple(sorted(sources.items()))
        return cls(**d)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict` (first 16 hex digits,
        :func:`zoo_data.common.fields.fingerprint`)."""
        return fields.fingerprint(self.to_dict())
