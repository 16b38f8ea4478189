"""What a predictor reads, handed to it by one provider per declaration.

A predictor declares what it reads (``reads``, one of :data:`predictors.base.READS`, and
``metadata_columns``). The protocol asks for that once per run:
:func:`input_provider` checks the declaration against the zoo and returns the provider
of its kind, which from then on is the only way the run reads models:

- :class:`WeightInputs` (``"weights"``) and :class:`FunctionInputs` (``"function"``):
  the parameter tree of ``B`` models, leaves ``(B, *tensor_shape, 1)`` float32, or
  ``(params, columns)`` when the predictor declared the metadata columns that define a
  network besides its weights (the family's ``network_columns``: a Small CNN Zoo
  network's ``activation``), each column ``(B,)`` float64;
- :class:`MetadataInputs` (``"metadata"``): a :class:`zoo_data.zoo.Columns` of the
  declared columns, each ``(B,)`` float64, never the weights.

No provider reads a label. Every provider offers the inputs of given model ids
(:meth:`InputProvider.inputs`) and of a split's models batch by batch, in the order
:meth:`zoo_data.zoo.Zoo.batch_ids` draws (:meth:`InputProvider.batches`). A provider
whose inputs hold weights (:attr:`InputProvider.holds_weights`) can relabel each model
by a random permutation of its hidden units first (the zoo's true symmetry), for the
augmentation and the audit; metadata holds nothing to permute.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from predictors.base import Predictor
from predictors.registry import check_reads
from predictors.unf import permute_each
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo

__all__ = ["InputProvider", "WeightInputs", "FunctionInputs", "MetadataInputs",
           "PROVIDERS", "provider_class", "input_provider"]


class InputProvider(abc.ABC):
    """The declared inputs of ``predictor`` on the zoo of ``zoo`` (any of its splits:
    every split of one zoo shares its models). Constructing one checks the declaration:
    a provider exists only for a predictor that may read what it declared.

    Raises:
      TinyZooError: one line naming the predictor and what it may not declare.
    """

    #: the ``reads`` value this provider serves
    reads: ClassVar[str]
    #: whether the inputs hold the weights (then a permutation of hidden units relabels
    #: them; otherwise they are small enough to keep for a whole split)
    holds_weights: ClassVar[bool]

    def __init__(self, predictor: Predictor, zoo: Zoo) -> None:
        if predictor.reads != self.reads:
            raise TinyZooError(f"{predictor.name}: reads {predictor.reads!r}, not "
                               f"{self.reads!r}")
        self.check(predictor, zoo)
        self.predictor, self.zoo = predictor, zoo

    @classmethod
    @abc.abstractmethod
    def check(cls, predictor: Predictor, zoo: Zoo) -> None:
        """Refuse, naming it, a declaration this kind may not make or ``zoo`` lacks."""

    @abc.abstractmethod
    def _read(self, split: Zoo, ids: np.ndarray, permute: np.random.Generator | None) -> Any:
        """The inputs of models ``ids`` of ``split`` (module docstring)."""

    def inputs(self, split: Zoo, ids: np.ndarray | Sequence[int], *,
               permute: np.random.Generator | None = None) -> Any:
        """What the predictor reads of models ``ids`` (``B`` of them, any models of the
        zoo; ``split`` is the split they are read through); with ``permute``, each model
        relabelled first by an independent permutation of its hidden units drawn from it.

        Raises:
          TinyZooError: ``split`` is of another zoo, or ``permute`` is given and the
            inputs hold no weights.
        """
        self._check_zoo(split)
        return self._read(split, np.asarray(ids), permute)

    def batches(self, split: Zoo, batch_size: int, *, shuffle: bool = False,
                seed: int | Sequence[int] | np.random.Generator = 0,
                permute: np.random.Generator | None = None
                ) -> Iterator[tuple[np.ndarray, Any]]:
        """``(ids (B,) int64, inputs)`` for every model of ``split``, in batches of
        ``batch_size`` in the order of :meth:`zoo_data.zoo.Zoo.batch_ids` (``shuffle``,
        ``seed``: its arguments; a ``Generator`` draws the order first, then, with
        ``permute`` the same generator, each batch's permutations)."""
        self._check_zoo(split)
        for ids in split.batch_ids(batch_size, shuffle=shuffle, seed=seed):
            yield ids, self._read(split, ids, permute)

    def _check_zoo(self, split: Zoo) -> None:
        if split.manifest is not self.zoo.manifest and \
                split.manifest_sha256 != self.zoo.manifest_sha256:
            raise TinyZooError(f"{self.predictor.name}: its inputs were checked on the zoo "
                               f"at {self.zoo.path}, not on the zoo at {split.path}")


class WeightInputs(InputProvider):
    """The weights (module docstring); the predictor may declare only the metadata
    columns that define a network besides its weights on this zoo's family."""

    reads = "weights"
    holds_weights = True

    @classmethod
    def check(cls, predictor: Predictor, zoo: Zoo) -> None:
        allowed = zoo.family.network_columns(zoo.config)
        extra = [c for c in predictor.metadata_columns if c not in allowed]
        if extra:
            raise TinyZooError(
                f"{predictor.name}: reads {predictor.reads} but declares metadata column "
                f"{extra[0]!r}; a weight or function reader may declare only what defines "
                f"the network ({', '.join(allowed) or 'nothing, on this zoo'})")

    def _read(self, split: Zoo, ids: np.ndarray, permute: np.random.Generator | None) -> Any:
        params = split.params(ids, channel_axis=True)
        if permute is not None:
            params = permute_each(params, split.symmetry, permute)
        columns = self.predictor.metadata_columns
        if columns:
            return params, split.columns(columns, ids, reader=self.predictor.name)
        return params


class FunctionInputs(WeightInputs):
    """The weights, for a predictor that runs each network on problems of the zoo's
    task (its config comes through :meth:`Predictor.bind`); the same inputs and the same
    rule on metadata columns as :class:`WeightInputs`."""

    reads = "function"


class MetadataInputs(InputProvider):
    """The declared metadata columns (module docstring); at least one, each one the zoo
    has and none a label (:meth:`zoo_data.zoo.Zoo.columns` refuses those)."""

    reads = "metadata"
    holds_weights = False

    @classmethod
    def check(cls, predictor: Predictor, zoo: Zoo) -> None:
        if not predictor.metadata_columns:
            raise TinyZooError(f"{predictor.name}: reads metadata but declares no "
                               "metadata_columns")
        zoo.columns(predictor.metadata_columns, zoo.model_ids[:1], reader=predictor.name)

    def _read(self, split: Zoo, ids: np.ndarray, permute: np.random.Generator | None) -> Any:
        if permute is not None:
            raise TinyZooError(f"{self.predictor.name}: reads metadata only, no weights; "
                               "nothing to permute")
        return split.columns(self.predictor.metadata_columns, ids, reader=self.predictor.name)


#: The provider of each ``reads`` value (:data:`predictors.base.READS`).
PROVIDERS: dict[str, type[InputProvider]] = {
    cls.reads: cls for cls in (WeightInputs, MetadataInputs, FunctionInputs)}


def provider_class(predictor: Predictor) -> type[InputProvider]:
    """The provider of ``predictor``'s kind of inputs.

    Raises:
      TinyZooError: its ``reads`` is not one of :data:`predictors.base.READS`."""
    check_reads(predictor, predictor.name)
    return PROVIDERS[predictor.reads]


def input_provider(predictor: Predictor, zoo: Zoo) -> InputProvider:
    """The checked provider of what ``predictor`` declared it reads, on ``zoo``'s zoo.

    Raises:
      TinyZooError: one line naming the predictor, for a ``reads`` value or a metadata
        column it may not declare, or a column ``zoo`` lacks."""
    return provider_class(predictor)(predictor, zoo)
