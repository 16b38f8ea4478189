"""What a zoo family is: :class:`ZooFamily`, the one object that knows everything that
differs between families of zoos (the Tiny RNN Zoo, the Small CNN Zoo, a user's own).

The rest of the library is family-neutral: it reads the attributes every config shares
(:class:`ZooConfigLike`) and asks ``family_of(config)`` (:mod:`zoo_data.families.registry`)
for the rest. A family implements the abstract members; the others have defaults that
fit a zoo with no checkpoints, no hyperparameter features, no runnable network, no
presets the current code builds and no published figures to compare with.

This module imports nothing of the project: families sit above the archive format
(they build cards and groups with it), and the archive reaches them through the
registry at run time, by the config's ``family`` name.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

__all__ = ["TrainingGroup", "ZooConfigLike", "CardParts", "HyperparameterEncoding", "ProbeNetwork",
           "PublishedTable", "ZooFamily"]


@dataclass(frozen=True)
class TrainingGroup:
    """Models archived (and, in a zoo built here, trained) together: ``index`` in the
    zoo's group list, their batch size (0 for a zoo not trained here), their ids. A
    family may choose its groups (:meth:`ZooFamily.training_groups`); the archive
    (:mod:`zoo_data.archive.layout`) stores one group's rows per file and split."""

    index: int
    batch_size: int
    model_ids: tuple[int, ...]


@runtime_checkable
class ZooConfigLike(Protocol):
    """The attributes every family's config has; the archive reads no others.

    ``family``: the family's registry name (a class attribute, never written to the
    manifest by the Tiny RNN Zoo's config, so older manifests stay as they are);
    ``preset``: the zoo's name; ``num_models`` runs; ``rows_per_model`` rows a run
    (checkpoints); ``num_rows = num_models * rows_per_model``; ``checkpoints`` (the
    archived steps, or ``None``); ``steps``; ``varied`` (hyperparameters varied beyond
    the family's own); ``group_size`` (models per archive group); ``fingerprint()``
    (sha256 of ``to_dict()``'s canonical JSON, first 16 hex digits); ``to_dict()``.
    """

    family: str
    preset: str
    num_models: int
    group_size: int

    @property
    def rows_per_model(self) -> int: ...

    @property
    def num_rows(self) -> int: ...

    def fingerprint(self) -> str: ...

    def to_dict(self) -> dict: ...


@dataclass(frozen=True)
class CardParts:
    """A family's part of a zoo's dataset card: the front matter's ``license``,
    ``pretty_name`` and ``tags`` (the archive adds the split files, task category and
    size category, :func:`zoo_data.archive.card.dataset_card`) and the Markdown body."""

    license: str
    pretty_name: str
    tags: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class HyperparameterEncoding:
    """The hyperparameters a reference predictor may read, and their features.

    ``columns``: the metadata columns; ``encode(columns) -> (B, F) float32``: the
    features of ``B`` rows from those columns (categorical columns arrive as integer
    codes, :meth:`zoo_data.zoo.Zoo.columns`)."""

    columns: tuple[str, ...]
    encode: Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class ProbeNetwork:
    """How to run one of the family's networks on learned probe inputs (in JAX).

    ``probe_shape``: one probe's trainable logits, ``(*input_shape)``;
    ``respond(weights, probes, columns) -> (K, ...)``: one network (its parameter
    tree, no batch axis), ``K`` probes of ``probe_shape`` and its row of the
    ``columns`` it needs (``network_columns``; a dict of 0-d arrays) -> its outputs,
    differentiable in the probes; ``network_columns``: the metadata columns that define
    the network besides its weights (its activation, say); ``initial_probes(K, seed)
    -> (K, *probe_shape)``: starting logits made from real inputs of the task (``None``:
    the predictor draws them at random)."""

    probe_shape: tuple[int, ...]
    respond: Callable[[Any, Any, Mapping[str, Any]], Any]
    network_columns: tuple[str, ...] = ()
    initial_probes: Callable[[int, int], Any] | None = None


@dataclass(frozen=True)
class PublishedTable:
    """Published figures that the board shows, unranked, under the table of a zoo of one
    preset (the paper table the family reproduces, say).

    ``label``: what a row's display name adds to the method's name
    (``"<method> (<label>)"``), or ``None`` for the method's name alone; ``source``:
    where the figures come from, one clause (the board's note under the table reads
    "Rows marked *paper (reference)* are <source>; they are not ranked."); ``rows``:
    method name -> (mean test Kendall's tau, its std or ``None``); ``row_prefix``: what
    a row's ``method`` id puts before the method's name (lower case, spaces as ``-``)."""

    label: str | None
    source: str
    rows: Mapping[str, tuple[float, float | None]]
    row_prefix: str


class ZooFamily(abc.ABC):
    """One family of zoos. Subclass it, implement the abstract members and register
    an instance (:mod:`zoo_data.families.registry`): built-in families in the registry's
    table, others under the ``tiny_rnn_zoo.families`` entry point group."""

    #: Registry name, the ``family`` of its configs (``"tiny-rnn-zoo"``).
    name: ClassVar[str]
    #: Title of its section on the board (``"Tiny RNN Zoo"``).
    title: ClassVar[str]
    #: What its label ``test_sr`` measures, for axes and summaries.
    label_name: ClassVar[str] = "test success rate"
    #: The paper table its zoos reproduce (``tinyzoo reproduce <table>``), if any.
    paper_table: ClassVar[str | None] = None
    #: The config class of its zoos.
    config_class: ClassVar[type]

    # -- config and weights -------------------------------------------------------
    @abc.abstractmethod
    def config_from_dict(self, d: dict) -> ZooConfigLike:
        """The checked config of a manifest's ``config`` object.

        Raises TinyZooError naming the field at fault."""

    @abc.abstractmethod
    def spec(self, config: ZooConfigLike) -> dict:
        """The weight-space spec the predictors read: tensor path -> axis labels."""

    def symmetry(self, config: ZooConfigLike) -> dict:
        """The true symmetry (permuting by it leaves a network's function unchanged):
        the spec unless the spec labels more axes permutable than are."""
        return self.spec(config)

    @abc.abstractmethod
    def tensor_shapes(self, config: ZooConfigLike) -> dict[str, tuple[int, ...]]:
        """Every parameter tensor's shape, keyed by ``/``-joined path, in sorted order."""

    @abc.abstractmethod
    def metadata_columns(self, config: ZooConfigLike) -> dict[str, str]:
        """The columns before the tensors, name -> ``datasets`` dtype, in order;
        ``model_id``, ``group`` and the label ``test_sr`` among them."""

    def network_columns(self, config: ZooConfigLike) -> tuple[str, ...]:
        """Metadata columns that define a network besides its weights, which a
        predictor reading weights or the function may declare (none by default)."""
        return ()

    def category_codes(self, config: ZooConfigLike, column: str) -> dict[str, int] | None:
        """``{value: integer code}`` of a categorical (string) metadata column, how a
        predictor reading metadata receives it (:meth:`zoo_data.zoo.Zoo.columns`);
        ``None`` if ``column`` is not categorical (none is, by default)."""
        return None

    def export_metadata(self, config: ZooConfigLike, row: Mapping[str, Any], model_id: int,
                        split: str) -> dict[str, str]:
        """The text metadata of one row's exported file (:mod:`zoo_data.export`): by
        default every metadata column of ``row`` (strings as they are, numbers as their
        ``repr``), then ``model_id`` and ``split``."""
        out = {name: value if isinstance(value, str) else repr(
            value.item() if hasattr(value, "item") else value) for name, value in row.items()}
        out.update({"model_id": str(model_id), "split": split})
        return out

    # -- splits and groups --------------------------------------------------------
    def split_sizes(self, config: ZooConfigLike) -> dict[str, int] | None:
        """The zoo's own ``{"train", "val", "test"}`` counts, or ``None`` for the
        archive's 80/10/10 of ``num_models`` (:func:`zoo_data.archive.splits.split_sizes`)."""
        return None

    def split_method(self, config: ZooConfigLike) -> str | None:
        """The split rule's text in the manifest, or ``None`` for the archive's."""
        return None

    def split_schemes(self, config: ZooConfigLike) -> dict[str, Any]:
        """Split schemes besides the default id ranges, ``{name:
        zoo_data.archive.split_schemes.SplitScheme}`` (none by default)."""
        return {}

    def training_groups(self, config: ZooConfigLike) -> tuple[TrainingGroup, ...] | None:
        """The zoo's archive groups, or ``None`` for chunks of ``group_size`` ids."""
        return None

    # -- description ----------------------------------------------------------------
    @abc.abstractmethod
    def card(self, config: ZooConfigLike, layout: Any) -> CardParts:
        """The family's part of the dataset card; ``layout`` is the zoo's
        :class:`zoo_data.archive.layout.ZooLayout` (groups, files per split)."""

    @abc.abstractmethod
    def summary(self, zoo: Any) -> dict:
        """``tinyzoo info``'s JSON-ready summary of a whole zoo (a
        :class:`zoo_data.zoo.Zoo` of all splits; checksums excluded)."""

    @abc.abstractmethod
    def summary_lines(self, summary: dict) -> list[str]:
        """The summary as text lines, before the checksum line."""

    # -- what predictors may ask ----------------------------------------------------
    def predictor_sizes(self, config: ZooConfigLike) -> Mapping[str, Mapping[str, Any]]:
        """Size hints by predictor name (``{"unf": {"channels": ..., "hidden": ...}}``)
        so a row compares with the family's published one; none by default."""
        return {}

    def hyperparameters(self, config: ZooConfigLike) -> HyperparameterEncoding | None:
        """The hyperparameter reference's columns and features, or ``None`` if the
        zoo records no hyperparameters (the reference then does not apply)."""
        return None

    def probe_network(self, config: ZooConfigLike) -> ProbeNetwork | None:
        """How to run a network on learned probes, or ``None`` if no JAX forward pass
        is known (probing predictors then do not apply)."""
        return None

    def fresh_problem_accuracy(self, config: ZooConfigLike, num_problems: int,
                               seed: int) -> Callable[[Any], Any] | None:
        """``params -> accuracy`` of one network on ``num_problems`` fresh problems of
        its training distribution (never the test set), or ``None`` with
        :meth:`no_fresh_problems_reason` if the family publishes no such data."""
        return None

    def fresh_problem_responses(self, config: ZooConfigLike, num_problems: int,
                                seed: int) -> Callable[[Any], Any] | None:
        """``params -> (F,)`` responses of one network to ``num_problems`` fixed problems
        of its training distribution (never the test set), the same for every network,
        or ``None`` with :meth:`no_fresh_problems_reason` (probing predictors then do
        not apply)."""
        return None

    def no_fresh_problems_reason(self) -> str:
        """Why :meth:`fresh_problem_accuracy` is ``None``, as one clause."""
        return f"the {self.title} publishes no data to run its networks on"

    # -- the board ------------------------------------------------------------------
    def preset_rank(self, preset: str) -> int | None:
        """The board position of a zoo of ``preset`` within the family (lower first), or
        ``None``: after the presets it ranks, by name (every preset, by default)."""
        return None

    def current_fingerprint(self, preset: str) -> str | None:
        """The config fingerprint the current code builds for ``preset``, or ``None`` if
        it builds none (an imported family, an unknown preset; the default): a zoo whose
        fingerprint differs is an "older zoo" on the board, one of ``None`` never is."""
        return None

    def published_results(self, preset: str) -> PublishedTable | None:
        """The published figures a zoo of ``preset`` is shown with on the board, or
        ``None`` (none, by default)."""
        return None


def checked_family(obj: Any, where: str) -> ZooFamily:
    """``obj`` if it is a :class:`ZooFamily` with a name and title, else TypeError
    naming ``where`` (a registry entry)."""
    if not isinstance(obj, ZooFamily):
        raise TypeError(f"{where}: {obj!r} is not a ZooFamily")
    for attr in ("name", "title", "config_class"):
        if not getattr(type(obj), attr, None):
            raise TypeError(f"{where}: {type(obj).__name__}.{attr} is not set")
    return obj


