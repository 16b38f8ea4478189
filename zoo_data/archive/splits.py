"""The zoo's fixed train / validation / test split: 80/10/10 by model id.

For ``N`` models the split is three contiguous id ranges::

    train = [0, n_train)              n_train = floor(0.8 N + 1/2)
    val   = [n_train, n_train + n_val) n_val   = floor(0.1 N + 1/2)
    test  = [n_train + n_val, N)       n_test  = N - n_train - n_val

so 8,000 / 1,000 / 1,000 for the ``paper`` preset's 10,000 models, the same index
ranges the paper's predictor script uses on its ``.npz`` file. Contiguous ranges are an
unbiased random split here: model ``i``'s hyperparameters, initialisation and batches
are drawn independently from ``(zoo seed, i)``, and its weights and labels do not depend
on which models it was trained with. The split is a function of the model count only,
is written to every zoo's ``manifest.json`` and, per preset, to ``data/splits/``.

A zoo that archives checkpoints holds several rows per model; the split is still by
model (the training run), so every checkpoint of a model is in its model's split
(:func:`split_rows`).
"""

from __future__ import annotations

import numpy as np

from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["SPLITS", "SPLIT_METHOD", "check_split", "split_sizes", "split_ranges", "split_ids",
           "split_rows", "split_of_rows", "split_record", "split_of"]

#: The split names, in id order.
SPLITS: tuple[str, ...] = ("train", "val", "test")

#: The manifest's ``splits.method`` of the 80/10/10 split. The text names the module
#: where the split was first defined; it is part of every manifest written since, so it
#: stays as it is.
SPLIT_METHOD = "contiguous model-id ranges, 80/10/10 (zoo_builder.splits)"


def check_split(name: object) -> str:
    """``name`` if it is one of :data:`SPLITS`.

    Raises:
      TinyZooError: one line naming it and the splits (a ``ValueError``)."""
    if isinstance(name, str) and name in SPLITS:
        return name
    raise TinyZooError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")


def split_sizes(zoo: int | ZooConfigLike) -> dict[str, int]:
    """``{"train": n_train, "val": n_val, "test": n_test}``.

    ``zoo``: a model count (the 80/10/10 split of the module docstring) or a zoo config:
    its family's own counts if it has them (an imported zoo's,
    :meth:`zoo_data.families.base.ZooFamily.split_sizes`), else the 80/10/10 split of
    its model count. ``ValueError`` if there are fewer than 3 models."""
    if not isinstance(zoo, (int, np.integer)):
        own = family_of(zoo).split_sizes(zoo)
        if own is not None:
            return dict(own)
        zoo = zoo.num_models
    num_models = int(zoo)
    if num_models < 3:
        raise ValueError(f"num_models {num_models}: a split needs at least 3 models")
    n_train = (8 * num_models + 5) // 10
    n_val = max(1, (num_models + 5) // 10)
    n_test = num_models - n_train - n_val
    if n_test < 1:  # only for N = 3 or 4 with this rounding
        n_train -= 1 - n_test
        n_test = 1
    return {"train": n_train, "val": n_val, "test": n_test}


def split_ranges(zoo: int | ZooConfigLike) -> dict[str, tuple[int, int]]:
    """``{name: (start, stop)}``: the half-open model-id range of each split
    (``zoo`` as for :func:`split_sizes`)."""
    sizes = split_sizes(zoo)
    out, start = {}, 0
    for name in SPLITS:
        out[name] = (start, start + sizes[name])
        start += sizes[name]
    return out


def split_ids(zoo: int | ZooConfigLike, name: str) -> np.ndarray:
    """The model ids of split ``name`` (int64, ascending); :func:`check_split` refuses
    an unknown split name."""
    start, stop = split_ranges(zoo)[check_split(name)]
    return np.arange(start, stop, dtype=np.int64)


def split_rows(config: ZooConfigLike, name: str) -> np.ndarray:
    """The archive rows (``model_id`` column) of split ``name``: every checkpoint of every
    model in it, ``r * C + k`` for its models ``r`` and ``k < C = config.rows_per_model``
    (:mod:`zoo_data.archive.schema`); the model ids themselves when the zoo has no checkpoints."""
    c = config.rows_per_model
    start, stop = split_ranges(config)[check_split(name)]
    return np.arange(start * c, stop * c, dtype=np.int64)


def split_of_rows(config: ZooConfigLike, rows: np.ndarray) -> np.ndarray:
    """The split name of every archive row in ``rows`` (``model_id`` column values): its
    model's split (:func:`split_of` of ``rows // config.rows_per_model``)."""
    return split_of(config, np.asarray(rows) // config.rows_per_model)


def split_of(zoo: int | ZooConfigLike, model_ids: np.ndarray) -> np.ndarray:
    """The split name of every id in ``model_ids`` (a string array of the same shape;
    ``zoo`` as for :func:`split_sizes`)."""
    ids = np.asarray(model_ids)
    ranges = split_ranges(zoo)
    out = np.full(ids.shape, "", dtype=object)
    for name, (start, stop) in ranges.items():
        out[(ids >= start) & (ids < stop)] = name
    return out


def split_record(config: ZooConfigLike) -> dict:
    """The split as written to ``manifest.json`` (key ``"splits"``) and to
    ``data/splits/<preset>.json``: the method, and per split its id range and count.

    Example for 10,000 models: ``{"method": ..., "train": {"start": 0, "stop": 8000,
    "count": 8000}, "val": {...}, "test": {...}}``.
    """
    method = family_of(config).split_method(config)
    record: dict = {"method": SPLIT_METHOD if method is None else method}
    for name, (start, stop) in split_ranges(config).items():
        record[name] = {"start": start, "stop": stop, "count": stop - start}
    return record
