"""Load a zoo for predictors: ``load_zoo(source, split=None)``.

``source`` is a local zoo folder, an ``http(s)://`` URL of a published zoo folder, or a
Hugging Face dataset repo ``hf://ORG/NAME`` (remote zoos are downloaded and verified
into a cache folder first, see :mod:`zoo_data.remote.download`). The result is a
:class:`Zoo`: the models of one split (or all), their labels and metadata as a pandas
table, the weight-space spec for the UNF core, batches of parameter pytrees read
straight from the Parquet shards in bounded memory, and the zoo as a memory-mapped
``datasets.Dataset``.

Batch shapes, for ``B`` models: ``params`` is the nested dict of flax's ``"params"``
tree (``params["GRUCell_0"]["hn"]["kernel"]`` has shape ``(B, H, H)``, with
``channel_axis=True`` ``(B, H, H, 1)``, the layout of ``predictors.unf``), ``test_sr``
and ``model_id`` have shape ``(B,)``.

Reading a zoo imports neither jax nor any training code: numpy, pandas and pyarrow
only (``datasets`` on first use of :attr:`Zoo.dataset`, jax only for ``as_jax=True``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from zoo_data.archive.layout import DATA, MANIFEST, MIGRATION_DIR
from zoo_data.archive.manifest import manifest_config, read_manifest
from zoo_data.archive.reader import ShardReader
from zoo_data.archive.schema import LABEL, LABEL_COLUMNS
from zoo_data.archive.seal import refuse_if_sealed, sealed_scheme, test_labels_sealed
from zoo_data.archive.split_schemes import DEFAULT_SCHEME, check_scheme, scheme_ids, scheme_rows
from zoo_data.archive.splits import check_split, split_record
from zoo_data.archive.verify import check_shards, verification_wanted
from zoo_data.common.trees import nest
from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooConfigLike, ZooFamily
from zoo_data.families.registry import family_of
from zoo_data.remote.download import download_zoo
from zoo_data.remote.http import cache_folder_for, is_remote
from zoo_data.rows import Columns, load_rows

__all__ = ["Zoo", "ZooBatch", "Columns", "load_zoo", "open_local_zoo", "load_rows"]


class ZooBatch(NamedTuple):
    """``B`` models: ``params`` (nested dict of ``(B, *shape[, 1])`` arrays),
    ``labels`` ``(B,)`` float32 (their success rates; ``None`` when not asked for) and
    ``model_id`` ``(B,)`` int64."""

    params: dict
    labels: Any
    model_id: np.ndarray


class Zoo:
    """The models of one split of a zoo (``split=None``: all of them).

    Attributes:
      path: the zoo folder.
      manifest: its ``manifest.json`` (a dict).
      config: its config (:class:`~zoo_data.families.base.ZooConfigLike`; a Tiny RNN
        Zoo's :class:`~zoo_data.rnn.presets.ZooConfig`, a Small CNN Zoo's ...).
      family: its :class:`~zoo_data.families.base.ZooFamily` (``family_of(config)``).
      split: ``"train"``, ``"val"``, ``"test"`` or ``None``.
      spec: the family's weight-space spec for the predictors (a Tiny RNN Zoo's: the
        paper's seq2seq spec, vocabulary axes permutable), a tree like the parameters'.
      symmetry: the networks' true symmetry (the family's; a GRU's hidden units only):
        permuting by it leaves a network's function unchanged.
    """

    def __init__(
        self, path: Path, manifest: dict, config: ZooConfigLike, split: str | None,
        reader: ShardReader, train_models: np.ndarray | None = None,
        split_scheme: str = DEFAULT_SCHEME,
    ) -> None:
        self.path, self.manifest, self.config, self.split = path, manifest, config, split
        self.split_scheme = check_scheme(config, split_scheme)
        if test_labels_sealed() and self.split_scheme != sealed_scheme():
            raise TinyZooError(f"{path}: split scheme {self.split_scheme!r}: the test labels "
                               f"of scheme {sealed_scheme()!r} are sealed in this process")
        self.train_models = train_models  # None: the whole train split
        self.family: ZooFamily = family_of(config)
        self.spec = self.family.spec(config)
        self.symmetry = self.family.symmetry(config)
        self._reader = reader
        ids = reader.model_ids
        if split is not None:
            ids = scheme_rows(config, split, self.split_scheme)
            missing = np.setdiff1d(ids, reader.model_ids)
            if len(missing):
                raise TinyZooError(
                    f"{path}: split {split} lacks model {int(missing[0])} in the shards"
                )
        if split == "train" and train_models is not None:
            c = config.rows_per_model
            ids = np.sort((train_models[:, None] * c + np.arange(c)).reshape(-1))
        self._ids = ids

    # ------------------------------------------------------------------ views

    def with_split(self, split: str | None) -> Zoo:
        """The same zoo restricted to ``split`` (shares the reader and its cache);
        :func:`~zoo_data.archive.splits.check_split` refuses an unknown one."""
        return Zoo(self.path, self.manifest, self.config, split, self._reader,
                   self.train_models, self.split_scheme)

    def with_split_scheme(self, scheme: str) -> Zoo:
        """The same zoo and split under another split scheme
        (:mod:`zoo_data.archive.split_schemes`); refused with one line for a scheme the
        zoo does not offer."""
        return Zoo(self.path, self.manifest, self.config, self.split, self._reader, None,
                   scheme)

    def with_train_models(self, count: int, seed: int = 0) -> Zoo:
        """The same zoo (and split) whose **train** split holds ``count`` of its training
        models, every checkpoint row of each; val and test unchanged. The models are the
        first ``count`` of one fixed random order of the training models
        (``numpy.random.default_rng(seed).permutation``), so the subsets of one seed are
        nested: those of 100 models lie in those of 200. For data-scaling curves
        (``scripts/data_scaling.py``); the protocol reads the train split only through
        :meth:`with_split`, so it trains (and standardises features) on these models.

        Raises:
          TinyZooError: ``count`` is not between 1 and the number of training models.
        """
        train = scheme_ids(self.config, self.split_scheme)["train"]
        if not 1 <= count <= len(train):
            raise TinyZooError(f"train models {count}: the zoo has {len(train)} "
                               "(choose 1 to all of them)")
        order = train[np.random.default_rng(seed).permutation(len(train))]
        chosen = np.sort(order[:count]).astype(np.int64)
        return Zoo(self.path, self.manifest, self.config, self.split, self._reader, chosen,
                   self.split_scheme)

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        split = self.split or "all"
        subset = "" if self.train_models is None else \
            f", train_models={len(self.train_models)}"
        if self.split_scheme != DEFAULT_SCHEME:
            subset += f", split_scheme={self.split_scheme!r}"
        return (f"Zoo({str(self.path)!r}, preset={self.config.preset}, split={split}, "
                f"models={len(self)}{subset})")

    @property
    def model_ids(self) -> np.ndarray:
        """The split's model ids, ascending (int64)."""
        return self._ids

    @property
    def metadata(self) -> pd.DataFrame:
        """One row per model of the split, indexed by ``model_id``: hyperparameters,
        ``test_sr``, ``test_loss``, ``train_loss``, ``group``. Refused for a split with
        test models in a process whose test labels are sealed (:mod:`zoo_data.archive.seal`):
        read them with :meth:`columns`."""
        refuse_if_sealed(f"{self!r}.metadata", self._holds_test_models)
        return self._reader.metadata.loc[self._ids]

    @cached_property
    def _holds_test_models(self) -> bool:
        test = scheme_ids(self.config, self.split_scheme)["test"]
        return bool(np.isin(self._ids // self.config.rows_per_model, test).any())

    def columns(self, names: Sequence[str], model_ids: np.ndarray | None = None,
                reader: str = "predictor") -> Columns:
        """The metadata columns ``names`` of ``model_ids`` (default: the split's models),
        as float64 arrays, for a predictor that reads metadata (``reader`` names it in
        errors).

        Raises:
          TinyZooError: naming a column the zoo does not have, or a label column
            (:data:`zoo_data.archive.schema.LABEL_COLUMNS`), which no predictor may read.
        """
        frame = self._reader.metadata
        for name in names:
            if name in LABEL_COLUMNS:
                raise TinyZooError(f"{reader}: declares metadata column {name!r}, which is "
                                   "measured on the test problems (the label); not allowed")
            if name not in frame.columns:
                allowed = ", ".join(c for c in frame.columns if c not in LABEL_COLUMNS)
                raise TinyZooError(f"{reader}: declares metadata column {name!r}, which the "
                                   f"zoo at {self.path} does not have (it has {allowed})")
        ids = self._ids if model_ids is None else np.asarray(model_ids)
        rows = frame.loc[ids]
        return Columns({n: self._numeric(rows[n]) for n in names}, reader)

    def _numeric(self, column: pd.Series) -> np.ndarray:
        """A metadata column as float64: a categorical (string) one as its code (the
        family's, :meth:`~zoo_data.families.base.ZooFamily.category_codes`)."""
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            codes = self.family.category_codes(self.config, str(column.name))
            if codes is None:
                raise TinyZooError(f"{self.path}: text column {column.name!r} has no codes")
            return column.map(codes).to_numpy(np.float64)
        return column.to_numpy(np.float64)

    @property
    def labels(self) -> np.ndarray:
        """The split's labels, ``(N,)`` float32 in ``model_ids`` order: each model's
        success rate on the zoo's held-out test problems (column ``test_sr``). Refused
        for a split with test models in a sealed process (:mod:`zoo_data.archive.seal`)."""
        refuse_if_sealed(f"{self!r}.labels", self._holds_test_models)
        return self.metadata[LABEL].to_numpy(np.float32)

    @property
    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """``{"/"-joined tensor path: shape}`` of one model."""
        return dict(self._reader.shapes)

    @cached_property
    def manifest_sha256(self) -> str:
        """sha256 of the zoo's manifest as built or published: identifies the zoo (and
        its shards). That is the sha256 of ``manifest.json``'s bytes, or for a download
        the published manifest's (its ``provenance``), or a sealed copy's reader's."""
        provenance = self.manifest.get("provenance") or getattr(self._reader, "identity", None)
        if provenance is not None:
            return provenance["manifest_sha256"]
        return hashlib.sha256((self.path / MANIFEST).read_bytes()).hexdigest()

    # ------------------------------------------------------------------ weights

    def tensors(self, model_ids: np.ndarray | list[int],
                columns: list[str] | None = None) -> dict[str, np.ndarray]:
        """``{"/"-joined path: (B, *shape) float32}`` of ``model_ids`` (any models of the
        zoo), optionally only the tensors in ``columns`` (read column by column)."""
        return self._reader.read(model_ids, columns=columns)

    def params(
        self, model_ids: np.ndarray | list[int], *, as_jax: bool = False,
        channel_axis: bool = False,
    ) -> dict:
        """The parameter pytree of ``model_ids`` (leading axis = model, in that order).

        ``channel_axis=True`` appends an axis of size 1 (``(B, *shape, 1)``);
        ``as_jax=True`` returns jax arrays instead of numpy ones.
        """
        flat = self.tensors(model_ids)
        if channel_axis:
            flat = {k: v[..., None] for k, v in flat.items()}
        if as_jax:
            import jax.numpy as jnp

            flat = {k: jnp.asarray(v) for k, v in flat.items()}
        return nest(flat)

    def batch_ids(
        self, batch_size: int, *, shuffle: bool = False,
        seed: int | Sequence[int] | np.random.Generator = 0, drop_last: bool = False,
    ) -> Iterator[np.ndarray]:
        """Yield the split's model ids in chunks of ``batch_size`` (int64).

        Order: ascending model id, or with ``shuffle=True`` a uniform permutation drawn
        from ``numpy.random.default_rng(seed)`` (pass a new seed per epoch, or a
        ``Generator``, which is used as it is). The permutation is drawn when the first
        chunk is asked for.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size {batch_size}: need at least 1")
        ids = self._ids
        if shuffle:
            ids = np.random.default_rng(seed).permutation(ids)
        stop = len(ids) - (len(ids) % batch_size if drop_last else 0)
        for start in range(0, stop, batch_size):
            yield ids[start : start + batch_size]

    def batches(
        self,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int | Sequence[int] | np.random.Generator = 0,
        drop_last: bool = False,
        as_jax: bool = False,
        channel_axis: bool = False,
        labels: bool = True,
    ) -> Iterator[ZooBatch]:
        """Yield the split's models in batches of ``batch_size``, in the order of
        :meth:`batch_ids` (same arguments).

        ``labels=False`` leaves ``ZooBatch.labels`` ``None`` (reading weights only, as
        predictions on val and test do). Memory stays bounded by one batch plus the
        reader's row-group cache, whatever the zoo's size.
        """
        if labels:
            refuse_if_sealed(f"{self!r}.batches(labels=True)", self._holds_test_models)
        column = self._reader.metadata[LABEL] if labels else None
        for chunk in self.batch_ids(batch_size, shuffle=shuffle, seed=seed,
                                    drop_last=drop_last):
            params = self.params(chunk, as_jax=as_jax, channel_axis=channel_axis)
            sr = column.loc[chunk].to_numpy(np.float32) if column is not None else None
            if as_jax and sr is not None:
                import jax.numpy as jnp

                sr = jnp.asarray(sr)
            yield ZooBatch(params, sr, chunk)

    # ------------------------------------------------------------------ datasets

    @cached_property
    def dataset(self):
        """The split as a memory-mapped ``datasets.Dataset`` (rows sorted by
        ``model_id``; ``Array2D`` / fixed-length list columns for the tensors).
        Built on first use (``datasets`` converts the shards into its Arrow cache).
        Refused for a split with test models in a sealed process."""
        refuse_if_sealed(f"{self!r}.dataset", self._holds_test_models)
        ds = load_rows(self.path)
        if self.split is not None:  # rows are 0 .. N-1 in order: select by row id
            first, last = int(self._ids[0]), int(self._ids[-1])
            contiguous = last - first + 1 == len(self._ids)
            ds = ds.select(range(first, last + 1) if contiguous else self._ids.tolist())
        return ds


def open_local_zoo(path: str | os.PathLike, split: str | None = None, *,
                   verify: bool | None = None, split_scheme: str = DEFAULT_SCHEME) -> Zoo:
    """The complete zoo in folder ``path`` (see :func:`load_zoo`).

    ``verify`` (default: unless ``TINYZOO_NO_VERIFY=1``): check every shard's sha256
    against the manifest first, once per shard per process
    (:func:`zoo_data.archive.verify.check_shards`).

    Raises:
      TinyZooError: one line naming the file if the folder has no valid manifest, the
        zoo is not complete, its split disagrees with :mod:`zoo_data.archive.splits`, or a
        shard listed in the manifest is missing or (when verifying) damaged.
    """
    zoo_dir = Path(path)
    if not zoo_dir.is_dir():
        raise TinyZooError(f"{zoo_dir}: no such zoo folder")
    manifest = read_manifest(zoo_dir)
    where = zoo_dir / MANIFEST
    if manifest["format_version"] != 1 and (zoo_dir / MIGRATION_DIR).is_dir():
        raise TinyZooError(f"{zoo_dir}: its migration to format {manifest['format_version']}"
                           f" is unfinished; run 'tinyzoo migrate {zoo_dir}' to finish it")
    if manifest.get("complete") is not True:
        raise TinyZooError(
            f"{where}: the zoo is not complete (build or download it to the end first)"
        )
    config = manifest_config(manifest, str(where))
    if manifest.get("splits") != split_record(config):
        raise TinyZooError(
            f"{where}: no split or a split other than zoo_data.archive.splits' (re-run "
            "'tinyzoo build' with the same preset and folder to refresh the manifest)"
        )
    if split is not None:
        check_split(split)
    names = sorted(manifest["shards"])
    for name in names:
        path = zoo_dir / DATA / name
        if not path.is_file():
            raise TinyZooError(f"{path}: shard listed in the manifest is missing")
    if verification_wanted(verify):
        check_shards(zoo_dir, manifest["shards"], config)
    reader = ShardReader(zoo_dir, config, names)
    if len(reader) != config.num_rows:
        raise TinyZooError(
            f"{zoo_dir / DATA}: {len(reader)} rows in the shards, the manifest says "
            f"{config.num_rows} ({config.num_models} models x {config.rows_per_model} "
            "checkpoints)"
        )
    return Zoo(zoo_dir, manifest, config, split, reader, split_scheme=split_scheme)


def load_zoo(
    source: str | os.PathLike, split: str | None = None, *,
    cache_dir: str | os.PathLike | None = None, progress: bool = False,
    verify: bool | None = None, split_scheme: str = DEFAULT_SCHEME,
) -> Zoo:
    """Load the zoo at ``source``, restricted to ``split`` (``"train"``, ``"val"``,
    ``"test"``; ``None`` for every model) of ``split_scheme`` (default ``"id-ranges"``,
    the fixed 80/10/10 split; the zoo's other schemes, e.g. a Tiny RNN Zoo's
    ``"lr-shift"``: :mod:`zoo_data.archive.split_schemes`).

    ``source``: a local folder; ``http://``/``https://`` URL of a published zoo folder;
    or ``hf://ORG/NAME[@REVISION]`` (a Hugging Face dataset repo). Remote zoos are
    downloaded, resumably and checked against the manifest's sha256, into
    ``cache_dir`` (default ``$TINYZOO_CACHE`` or ``~/.cache/tinyzoo``), then loaded
    from there; a second call reuses the verified copy.

    ``verify`` (default: unless ``TINYZOO_NO_VERIFY=1``): check every shard's sha256
    against the manifest before use, once per shard per process; a damaged zoo is
    refused with one line naming the shard.
    """
    text = os.fspath(source)
    if is_remote(text):
        local = cache_folder_for(text, cache_dir)
        download_zoo(text, local, progress=progress,
                     log=logging.getLogger("tinyzoo").warning)
        return open_local_zoo(local, split, verify=verify, split_scheme=split_scheme)
    return open_local_zoo(text, split, verify=verify, split_scheme=split_scheme)
