"""Named split schemes: other train / validation / test assignments of a zoo's models.

The default scheme, :data:`DEFAULT_SCHEME` (``"id-ranges"``), is the fixed 80/10/10
split by model id of :mod:`zoo_data.archive.splits`: every split is drawn from the same
hyperparameter distribution. A zoo's family may offer more
(:meth:`zoo_data.families.base.ZooFamily.split_schemes`), each a :class:`SplitScheme`:
a rule, stated in words, and a function of the zoo's config alone that assigns every
model to one split, so a scheme never depends on the weights or labels and is the same
on every machine. The Tiny RNN Zoo offers ``"lr-shift"``
(:func:`zoo_data.rnn.shift.lr_shift_split`): validation and test models from a band of
learning rates that no training model has.

The assignment is checked when computed: the three splits are disjoint, non-empty and
cover every model. Each preset's schemes are written, with the sha256 of every split's
model ids, to ``data/splits/<preset>.json`` (:func:`scheme_record`): the split manifest
a result names by the scheme.

A scheme selects models, not rows: every checkpoint of a model is in its model's split
(:func:`scheme_rows`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from zoo_data.archive.splits import SPLIT_METHOD, SPLITS, check_split, split_ids, split_record
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["DEFAULT_SCHEME", "SplitScheme", "check_scheme", "scheme_ids", "scheme_names",
           "scheme_record", "scheme_rows", "preset_split_file"]

#: The scheme of the fixed id-range split (:mod:`zoo_data.archive.splits`).
DEFAULT_SCHEME = "id-ranges"


@dataclass(frozen=True)
class SplitScheme:
    """``rule``: the assignment in words (one sentence); ``assign(config) -> {split:
    model ids}`` for the splits ``train``, ``val`` and ``test``."""

    rule: str
    assign: Callable[[ZooConfigLike], dict[str, np.ndarray]]


def _schemes(config: ZooConfigLike) -> dict[str, SplitScheme]:
    default = SplitScheme(SPLIT_METHOD, lambda c: {s: split_ids(c, s) for s in SPLITS})
    return {DEFAULT_SCHEME: default, **family_of(config).split_schemes(config)}


def scheme_names(config: ZooConfigLike) -> dict[str, str]:
    """``{scheme: rule}`` of every scheme the zoo offers, the default first."""
    return {name: scheme.rule for name, scheme in _schemes(config).items()}


def check_scheme(config: ZooConfigLike, scheme: object) -> str:
    """``scheme`` if the zoo offers it.

    Raises:
      TinyZooError: one line naming it and the schemes offered."""
    names = _schemes(config)
    if isinstance(scheme, str) and scheme in names:
        return scheme
    raise TinyZooError(f"unknown split scheme {scheme!r} for a {config.preset} zoo; choose "
                       f"one of {', '.join(names)}")


@lru_cache(maxsize=32)
def _assignment(config: ZooConfigLike, scheme: str) -> dict[str, np.ndarray]:
    ids = _schemes(config)[scheme].assign(config)
    if set(ids) != set(SPLITS):
        raise TinyZooError(f"split scheme {scheme!r}: assigns {sorted(ids)}, not "
                           f"{', '.join(SPLITS)}")
    out = {s: np.sort(np.asarray(ids[s], np.int64)) for s in SPLITS}
    every = np.concatenate(list(out.values()))
    if (any(len(v) == 0 for v in out.values()) or len(np.unique(every)) != len(every)
            or not np.array_equal(np.sort(every), np.arange(config.num_models))):
        raise TinyZooError(f"split scheme {scheme!r}: its splits must be non-empty, "
                           "disjoint and cover every model")
    for v in out.values():
        v.setflags(write=False)
    return out


def scheme_ids(config: ZooConfigLike, scheme: str = DEFAULT_SCHEME) -> dict[str, np.ndarray]:
    """``{split: model ids}`` (int64, ascending, read-only) of ``scheme``
    (:func:`check_scheme` refuses an unknown one)."""
    return _assignment(config, check_scheme(config, scheme))


def scheme_rows(config: ZooConfigLike, split: str,
                scheme: str = DEFAULT_SCHEME) -> np.ndarray:
    """The archive rows of ``split`` under ``scheme``: every checkpoint ``r * C + k``
    (``k < C = config.rows_per_model``) of each of its models ``r``, ascending."""
    models = scheme_ids(config, scheme)[check_split(split)]
    c = config.rows_per_model
    return (models[:, None] * c + np.arange(c)).reshape(-1)


def scheme_record(config: ZooConfigLike, scheme: str) -> dict:
    """``{"rule", "train": {"count", "model_ids_sha256"}, "val": ..., "test": ...}``:
    the scheme as ``data/splits/<preset>.json`` records it (the sha256 of each split's
    ascending model ids as little-endian int64)."""
    ids = scheme_ids(config, scheme)
    record: dict = {"rule": _schemes(config)[scheme].rule}
    for split in SPLITS:
        record[split] = {"count": int(len(ids[split])), "model_ids_sha256": hashlib.sha256(
            ids[split].astype("<i8").tobytes()).hexdigest()}
    return record


def preset_split_file(config: ZooConfigLike) -> dict:
    """The content of ``data/splits/<preset>.json``: preset, model count, config
    fingerprint, :func:`split_record` and, if the family offers other split schemes,
    ``"schemes"``: each one's rule, counts and model-id digests
    (:func:`scheme_record`)."""
    out = {"preset": config.preset, "num_models": config.num_models,
           "config_fingerprint": config.fingerprint(), "splits": split_record(config)}
    others = [name for name in scheme_names(config) if name != DEFAULT_SCHEME]
    if others:
        out["schemes"] = {name: scheme_record(config, name) for name in others}
    return out
