"""The on-disk format of a zoo: schema first, written shard by shard, read by ``datasets``.

A zoo folder ``DIR`` holds:

- ``DIR/data/train-{group:05d}-of-{G:05d}.parquet``: one row per model of training group
  ``group`` of the zoo's ``G`` groups (:func:`zoo_builder.train.training_groups`), in
  model id order, with the explicit schema of :func:`zoo_features`. The schema travels in
  the Parquet metadata and the names follow the Hub's sharded-split convention, so
  ``datasets.load_dataset("parquet", data_dir=DIR)`` (which then reads only
  ``data/train-*``), ``data_dir=DIR / "data"``, or ``load_dataset(DIR)`` through the
  card's ``configs`` give back fixed-shape ``Array2D`` columns without any extra code.
- ``DIR/data/.train-{group:05d}-of-{G:05d}.json``: the shard's sidecar ``{"group", "model_ids",
  "rows", "sha256", "config_fingerprint"}``, written after the Parquet file. A shard is
  *complete* iff both files exist and the Parquet file's sha256 equals the sidecar's; a
  Parquet file without a valid sidecar is an interrupted write, ignored and overwritten.
  The sidecar is a hidden file because ``datasets``' Parquet loader reads every visible
  file of ``data_dir`` as Parquet (``README.md`` excepted) and skips hidden ones.
- ``DIR/manifest.json``: format version, the config and its fingerprint, the builder's
  and the libraries' versions, the train/val/test split (:mod:`zoo_builder.splits`),
  and (once :func:`finalize` d) every shard's checksum with
  ``"complete": true``.
- ``DIR/README.md``: the dataset card (YAML metadata for the Hub and ``datasets``, then
  the task, model, hyperparameter distributions, columns and labels), generated from
  the config.

Every file is written atomically (a hidden ``.NAME.tmp-<pid>`` file in the same folder,
then ``os.replace``), and a folder never mixes two configs: :func:`prepare_zoo_dir`
refuses a folder holding another config's manifest or shards, or anything that is not a
zoo, before writing anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import datasets
import jax
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from flax.traverse_util import flatten_dict

from tinyzoo.errors import TinyZooError
from zoo_builder.hparams import model_hparams
from zoo_builder.model import init_params
from zoo_builder.presets import ZooConfig
from zoo_builder.splits import split_record
from zoo_builder.task import VOCAB, VOCAB_SIZE
from zoo_builder.train import GroupResult, training_groups

__all__ = [
    "FORMAT_VERSION",
    "METADATA_COLUMNS",
    "tensor_shapes",
    "zoo_features",
    "model_nbytes",
    "rows_per_row_group",
    "shard_name",
    "sidecar_name",
    "prepare_zoo_dir",
    "write_shard",
    "complete_shard",
    "complete_shards",
    "finalize",
    "read_manifest",
    "parse_manifest",
    "manifest_config",
    "write_sidecar",
    "expected_shard_names",
    "check_no_stray_files",
    "sha256_file",
    "atomic_write",
    "atomic_target",
    "json_bytes",
    "load_rows",
    "dataset_card",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CARD = "README.md"
DATA = "data"

#: The per-model columns before the parameter tensors: name -> ``datasets`` dtype.
METADATA_COLUMNS: dict[str, str] = {
    "model_id": "int64",
    "group": "int32",
    "learning_rate": "float64",
    "batch_size": "int32",
    "steps": "int32",
    "seed": "int64",
    "test_sr": "float32",
    "test_loss": "float32",
    "train_loss": "float32",
}

_VERSIONED = ("jax", "jaxlib", "flax", "optax", "numpy", "datasets", "pyarrow")


# --------------------------------------------------------------------------- schema


@lru_cache(maxsize=16)
def _tensor_shapes(hidden: int) -> tuple[tuple[str, tuple[int, ...]], ...]:
    abstract = jax.eval_shape(
        lambda key: init_params(hidden, VOCAB_SIZE, key), jax.random.PRNGKey(0)
    )
    flat = flatten_dict(abstract["params"], sep="/")
    return tuple((path, tuple(int(d) for d in flat[path].shape)) for path in sorted(flat))


def tensor_shapes(config: ZooConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor of one zoo model, keyed by its ``/``-joined path
    inside flax's ``"params"`` (e.g. ``"GRUCell_0/hn/kernel": (H, H)``), in sorted order.

    With ``V = 14`` and ``H = config.hidden``: input kernels ``(V, H)``, hidden kernels
    ``(H, H)``, GRU biases ``(H,)``, readout kernel ``(H, V)`` and bias ``(V,)``; 22 in all.
    """
    return dict(_tensor_shapes(config.hidden))


def zoo_features(config: ZooConfig) -> datasets.Features:
    """The explicit schema of a zoo's rows (one row per model).

    Columns, in order: :data:`METADATA_COLUMNS` (``model_id`` int64, ``group`` int32,
    ``learning_rate`` float64, ``batch_size`` int32, ``steps`` int32, ``seed`` int64,
    ``test_sr``, ``test_loss``, ``train_loss`` float32), then one float32 column per
    parameter tensor in the order of :func:`tensor_shapes`: a 2-D tensor of shape
    ``(r, c)`` as ``Array2D(shape=(r, c))``, a 1-D tensor of length ``n`` as a fixed-length
    ``List(Value("float32"), length=n)``.
    """
    features: dict = {name: datasets.Value(dtype) for name, dtype in METADATA_COLUMNS.items()}
    for path, shape in tensor_shapes(config).items():
        if len(shape) == 2:
            features[path] = datasets.Array2D(shape=shape, dtype="float32")
        elif len(shape) == 1:
            features[path] = datasets.List(datasets.Value("float32"), length=shape[0])
        else:  # pragma: no cover - the GRU has only matrices and vectors
            raise ValueError(f"tensor {path} has unsupported shape {shape}")
    return datasets.Features(features)


#: Target size of one Parquet row group: small enough that reading one model for a
#: shuffled batch decodes little besides it, large enough to keep metadata negligible.
ROW_GROUP_BYTES = 1 << 20


def model_nbytes(config: ZooConfig) -> int:
    """Bytes of one model's float32 parameters (``4 * sum of tensor sizes``)."""
    return 4 * sum(int(np.prod(shape)) for shape in tensor_shapes(config).values())


def rows_per_row_group(config: ZooConfig) -> int:
    """Models per Parquet row group: ``max(1, ROW_GROUP_BYTES // model_nbytes)``.

    27 for hidden 32 (37 KiB a model), 2 for hidden 128 (437 KiB a model). Row groups
    are the unit of random access of :mod:`zoo_builder.zoo`'s batch reader.
    """
    return max(1, ROW_GROUP_BYTES // model_nbytes(config))


def shard_name(group_index: int, num_groups: int) -> str:
    """``"train-00042-of-00120.parquet"`` for training group 42 of 120."""
    return f"train-{group_index:05d}-of-{num_groups:05d}.parquet"


def sidecar_name(group_index: int, num_groups: int) -> str:
    """``".train-00042-of-00120.json"``: the (hidden) sidecar of group 42's shard."""
    return f".train-{group_index:05d}-of-{num_groups:05d}.json"


# --------------------------------------------------------------------------- file helpers


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_target(path: Path):
    """Yield a hidden temporary path beside ``path`` to write; on success it replaces
    ``path`` at once, on any error (an interrupt included) it is removed.

    Raises:
      TinyZooError: naming ``path`` if writing fails with an ``OSError``.
    """
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:  # an interrupt must not leave the temporary file either
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError):
            raise TinyZooError(f"{path}: cannot write ({e.strerror or e})") from e
        raise


def atomic_write(path: Path, data: bytes | memoryview) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file in the same folder."""
    with atomic_target(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def json_bytes(obj: dict) -> bytes:
    """``obj`` as indented JSON bytes with a final newline (manifests, sidecars)."""
    return (json.dumps(obj, indent=2) + "\n").encode()


def _read_json(path: Path) -> dict | None:
    """The JSON object in ``path``, or ``None`` if it is missing, unreadable or invalid."""
    try:
        obj = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def _builder_version() -> str:
    from tinyzoo import __version__

    return __version__


def _new_manifest(config: ZooConfig, shards: dict, complete: bool) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "config_fingerprint": config.fingerprint(),
        "builder_version": _builder_version(),
        "versions": _versions(),
        "num_models": config.num_models,
        "num_groups": len(training_groups(config)),
        "splits": split_record(config),
        "shards": shards,
        "complete": complete,
    }


# --------------------------------------------------------------------------- manifest


_MANIFEST_KEYS = ("format_version", "config", "config_fingerprint", "shards", "complete")


def read_manifest(zoo_dir: str | os.PathLike) -> dict:
    """The manifest of the zoo in ``zoo_dir`` (see the module docstring).

    Raises:
      TinyZooError: one line naming ``manifest.json`` if it is missing, unreadable,
        truncated or invalid JSON, lacks a key, or has another format version.
    """
    path = Path(zoo_dir) / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TinyZooError(f"{path}: no zoo manifest (not a zoo folder?)") from None
    except OSError as e:
        raise TinyZooError(f"{path}: cannot read ({e.strerror or e})") from e
    return parse_manifest(raw, str(path))


def parse_manifest(raw: bytes, where: str) -> dict:
    """Parse and check a manifest's bytes; errors name ``where`` (a path or URL).

    Raises:
      TinyZooError: if ``raw`` is truncated or invalid JSON, not an object, lacks a key
        of :data:`_MANIFEST_KEYS`, or has another format version.
    """
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        raise TinyZooError(f"{where}: truncated or invalid JSON ({e})") from None
    if not isinstance(manifest, dict):
        raise TinyZooError(f"{where}: not a zoo manifest (expected a JSON object)")
    missing = [k for k in _MANIFEST_KEYS if k not in manifest]
    if missing:
        raise TinyZooError(f"{where}: not a zoo manifest (missing {', '.join(missing)})")
    if manifest["format_version"] != FORMAT_VERSION:
        raise TinyZooError(
            f"{where}: zoo format version {manifest['format_version']!r}, "
            f"this builder reads version {FORMAT_VERSION}"
        )
    if not isinstance(manifest["config"], dict) or not isinstance(manifest["shards"], dict):
        raise TinyZooError(f"{where}: not a zoo manifest (config or shards is not an object)")
    return manifest


def manifest_config(manifest: dict, where: str) -> ZooConfig:
    """The :class:`ZooConfig` of a parsed manifest, checked against its fingerprint."""
    try:
        config = ZooConfig.from_dict(manifest["config"])
    except (TypeError, KeyError, ValueError) as e:
        raise TinyZooError(f"{where}: invalid config ({e})") from None
    if config.fingerprint() != manifest["config_fingerprint"]:
        raise TinyZooError(f"{where}: config does not match its fingerprint (edited?)")
    return config


# --------------------------------------------------------------------------- folder


def _foreign(where: Path, stored: dict | None, fingerprint: str, config: ZooConfig):
    preset = (stored or {}).get("preset", "?")
    return TinyZooError(
        f"{where}: holds a zoo of another config (preset {preset}, fingerprint "
        f"{fingerprint}; wanted preset {config.preset}, fingerprint {config.fingerprint()}); "
        "refusing to mix or overwrite"
    )


def _check_writable(path: Path) -> None:
    """``path`` is a writable folder, or can be created as one."""
    if path.exists():
        if not path.is_dir():
            raise TinyZooError(f"{path}: exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise TinyZooError(f"{path}: directory is not writable")
        return
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise TinyZooError(f"{path}: cannot create it ({parent} is not a directory)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TinyZooError(f"{path}: cannot create it ({parent} is not writable)")


def prepare_zoo_dir(path: str | os.PathLike, config: ZooConfig) -> Path:
    """Make ``path`` ready to receive shards of the zoo ``config``; returns it as a Path.

    Creates ``path`` and ``path/data`` if needed, then writes the manifest
    (``"complete": false``) and the dataset card if they are absent. Nothing is written
    unless every check passes.

    Raises:
      TinyZooError: if ``path`` is a file or not writable; if it holds a manifest or shard
        sidecars of another config; if it is a non-empty folder that is not a zoo.
    """
    zoo_dir = Path(path)
    _check_writable(zoo_dir)
    fingerprint = config.fingerprint()
    manifest_path, data_dir = zoo_dir / MANIFEST, zoo_dir / DATA
    has_manifest = manifest_path.exists()
    if has_manifest:
        manifest = read_manifest(zoo_dir)
        if manifest["config_fingerprint"] != fingerprint:
            raise _foreign(zoo_dir, manifest["config"], manifest["config_fingerprint"], config)
    if data_dir.exists() and not data_dir.is_dir():
        raise TinyZooError(f"{data_dir}: exists and is not a directory")
    if data_dir.is_dir():
        if not os.access(data_dir, os.W_OK | os.X_OK):
            raise TinyZooError(f"{data_dir}: directory is not writable")
        for sidecar in sorted(data_dir.glob(".train-*.json")):
            meta = _read_json(sidecar)  # an unreadable sidecar is an interrupted write
            if meta is not None and meta.get("config_fingerprint") != fingerprint:
                stored = meta.get("config_fingerprint", "?")
                raise _foreign(sidecar, None, stored, config)
    elif not has_manifest and zoo_dir.is_dir() and any(zoo_dir.iterdir()):
        raise TinyZooError(
            f"{zoo_dir}: non-empty directory that is not a zoo (no {MANIFEST} or {DATA}/); "
            "refusing to write into it"
        )

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TinyZooError(f"{data_dir}: cannot create ({e.strerror or e})") from e
    if not has_manifest:
        atomic_write(manifest_path, json_bytes(_new_manifest(config, {}, False)))
    if not (zoo_dir / CARD).exists():
        atomic_write(zoo_dir / CARD, dataset_card(config).encode())
    return zoo_dir


# --------------------------------------------------------------------------- shards


def _fixed_size_storage(arr: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """``arr (M, n)`` as a fixed-size-list array of ``arrow_type``."""
    values = pa.array(np.ascontiguousarray(arr, np.float32).reshape(-1))
    return pa.FixedSizeListArray.from_arrays(values, type=arrow_type)


def _array2d(arr: np.ndarray, arrow_type: pa.ExtensionType) -> pa.Array:
    """``arr (M, r, c)`` as the ``Array2D`` extension array (nested list storage)."""
    m, r, c = arr.shape
    values = pa.array(np.ascontiguousarray(arr, np.float32).reshape(-1))
    rows = pa.ListArray.from_arrays(pa.array(np.arange(0, m * r * c + 1, c, np.int32)), values)
    outer = pa.ListArray.from_arrays(pa.array(np.arange(0, m * r + 1, r, np.int32)), rows)
    return pa.ExtensionArray.from_storage(arrow_type, outer.cast(arrow_type.storage_type))


def write_shard(
    zoo_dir: str | os.PathLike, config: ZooConfig, group_index: int, result: GroupResult
) -> str:
    """Write training group ``group_index``'s models as a complete shard; returns the sha256
    of its Parquet file.

    ``result`` holds ``M`` models in the group's id order: every params leaf has shape
    ``(M, *tensor_shape)``, the labels have shape ``(M,)``. The old sidecar (if any) is
    removed first, then the Parquet file and then its sidecar are written atomically, so
    a crash at any point leaves the shard incomplete, never wrong.

    Raises:
      ValueError: if ``result`` does not match the group or the model's tensor shapes.
      TinyZooError: if a file cannot be written.
    """
    data_dir = Path(zoo_dir) / DATA
    groups = training_groups(config)
    if not 0 <= group_index < len(groups):
        raise ValueError(f"group index {group_index} outside 0..{len(groups) - 1}")
    ids = tuple(int(i) for i in result.model_ids)
    if ids != groups[group_index].model_ids:
        raise ValueError(f"result's model ids {ids} are not those of group {group_index}")
    m = len(ids)

    params = result.params
    if set(params) == {"params"}:
        params = params["params"]
    flat = flatten_dict(params, sep="/")
    shapes = tensor_shapes(config)
    if set(flat) != set(shapes):
        raise ValueError(
            f"result's tensors {sorted(flat)} differ from the model's {sorted(shapes)}"
        )
    hps = [model_hparams(config, i) for i in ids]
    columns: dict[str, np.ndarray] = {
        "model_id": np.asarray(ids, np.int64),
        "group": np.full(m, group_index, np.int32),
        "learning_rate": np.asarray([h.learning_rate for h in hps], np.float64),
        "batch_size": np.asarray([h.batch_size for h in hps], np.int32),
        "steps": np.full(m, config.steps, np.int32),
        "seed": np.full(m, config.seed, np.int64),
    }
    for label in ("test_sr", "test_loss", "train_loss"):
        columns[label] = np.asarray(getattr(result, label), np.float32)
        if columns[label].shape != (m,):
            raise ValueError(f"result.{label} has shape {columns[label].shape}, not ({m},)")

    schema = zoo_features(config).arrow_schema
    arrays = []
    for field in schema:
        if field.name in columns:
            arrays.append(pa.array(columns[field.name], type=field.type))
            continue
        leaf = np.asarray(flat[field.name])
        if leaf.shape != (m, *shapes[field.name]):
            raise ValueError(
                f"result tensor {field.name} has shape {leaf.shape}, "
                f"not {(m, *shapes[field.name])}"
            )
        if isinstance(field.type, pa.ExtensionType):
            arrays.append(_array2d(leaf, field.type))
        else:
            arrays.append(_fixed_size_storage(leaf, field.type))
    table = pa.Table.from_arrays(arrays, schema=schema)

    sink = pa.BufferOutputStream()
    # no dictionary encoding for the float tensors: their values are all distinct, and
    # the dictionary page written before the fallback to PLAIN costs ~45% more bytes
    pq.write_table(table, sink, row_group_size=rows_per_row_group(config),
                   use_dictionary=list(METADATA_COLUMNS))
    blob = memoryview(sink.getvalue())
    sha = hashlib.sha256(blob).hexdigest()

    parquet_path = data_dir / shard_name(group_index, len(groups))
    sidecar_path = data_dir / sidecar_name(group_index, len(groups))
    try:
        sidecar_path.unlink(missing_ok=True)
    except OSError as e:
        raise TinyZooError(f"{sidecar_path}: cannot remove ({e.strerror or e})") from e
    atomic_write(parquet_path, blob)
    write_sidecar(zoo_dir, config, group_index, sha)
    return sha


def write_sidecar(zoo_dir: str | os.PathLike, config: ZooConfig, group_index: int,
                  sha: str) -> None:
    """Write the sidecar that marks group ``group_index``'s shard (already in place, with
    sha256 ``sha``) complete."""
    groups = training_groups(config)
    group = groups[group_index]
    sidecar = {
        "group": group_index,
        "model_ids": list(group.model_ids),
        "rows": len(group.model_ids),
        "sha256": sha,
        "config_fingerprint": config.fingerprint(),
    }
    path = Path(zoo_dir) / DATA / sidecar_name(group_index, len(groups))
    atomic_write(path, json_bytes(sidecar))


def complete_shard(zoo_dir: str | os.PathLike, config: ZooConfig,
                   group_index: int) -> str | None:
    """The sha256 of group ``group_index``'s shard in ``zoo_dir`` if it is complete, else
    ``None``. A shard is complete iff its Parquet file and sidecar both exist, the
    sidecar names this config, the group and the group's model ids, and the Parquet
    file's sha256 (read and hashed here) equals the sidecar's."""
    data_dir = Path(zoo_dir) / DATA
    groups = training_groups(config)
    group = groups[group_index]
    parquet_path = data_dir / shard_name(group.index, len(groups))
    meta = _read_json(data_dir / sidecar_name(group.index, len(groups)))
    if meta is None or not parquet_path.is_file():
        return None
    if (
        meta.get("config_fingerprint") != config.fingerprint()
        or meta.get("group") != group.index
        or tuple(meta.get("model_ids") or ()) != group.model_ids
        or meta.get("rows") != len(group.model_ids)
    ):
        return None
    try:
        sha = sha256_file(parquet_path)
    except OSError:
        return None
    return sha if sha == meta.get("sha256") else None


def complete_shards(zoo_dir: str | os.PathLike, config: ZooConfig) -> dict[int, str]:
    """``{group index: sha256}`` of the complete shards (:func:`complete_shard`) of
    ``config``'s zoo in ``zoo_dir``."""
    done: dict[int, str] = {}
    for group in training_groups(config):
        sha = complete_shard(zoo_dir, config, group.index)
        if sha is not None:
            done[group.index] = sha
    return done


def expected_shard_names(config: ZooConfig) -> list[str]:
    """The names of the zoo's shards, in group order."""
    groups = training_groups(config)
    return [shard_name(g.index, len(groups)) for g in groups]


def check_no_stray_files(zoo_dir: str | os.PathLike, config: ZooConfig) -> None:
    """Raise :class:`TinyZooError` naming the first visible file in ``data/`` that is not
    one of the zoo's shards (``datasets`` would try to read it as Parquet)."""
    expected = set(expected_shard_names(config))
    for path in sorted((Path(zoo_dir) / DATA).iterdir()):
        if not path.name.startswith(".") and path.name not in expected:
            raise TinyZooError(f"{path}: not a shard of this zoo; remove it")


def finalize(zoo_dir: str | os.PathLike, config: ZooConfig) -> None:
    """Mark the zoo complete: rewrite ``manifest.json`` with every shard's ``group``,
    ``rows`` and ``sha256`` and ``"complete": true`` (and write the card if absent).

    Raises:
      TinyZooError: if a training group has no complete shard, or ``data/`` holds a
        visible file other than the zoo's shards (``datasets`` would read it as Parquet).
    """
    zoo_dir = Path(zoo_dir)
    groups = training_groups(config)
    done = complete_shards(zoo_dir, config)
    missing = [g.index for g in groups if g.index not in done]
    if missing:
        raise TinyZooError(
            f"{zoo_dir}: {len(missing)} of {len(groups)} training groups have no complete "
            f"shard (first: {shard_name(missing[0], len(groups))}); build them before "
            "finalizing"
        )
    check_no_stray_files(zoo_dir, config)
    shards = {
        shard_name(g.index, len(groups)): {
            "group": g.index, "rows": len(g.model_ids), "sha256": done[g.index]
        }
        for g in groups
    }
    atomic_write(zoo_dir / MANIFEST, json_bytes(_new_manifest(config, shards, True)))
    if not (zoo_dir / CARD).exists():
        atomic_write(zoo_dir / CARD, dataset_card(config).encode())


def load_rows(zoo_dir: str | os.PathLike, cache_dir: str | os.PathLike | None = None):
    """Every model of the zoo in ``zoo_dir`` as a ``datasets.Dataset`` sorted by
    ``model_id``, with the features of :func:`zoo_features` (``Array2D`` and fixed-length
    list columns for the tensors). Reads only the Parquet shards, through ``datasets``.

    Raises:
      TinyZooError: if ``zoo_dir/data`` holds no shard.
    """
    data_dir = Path(zoo_dir) / DATA
    if not data_dir.is_dir() or not any(data_dir.glob("train-*.parquet")):
        raise TinyZooError(f"{data_dir}: no zoo shards (train-*.parquet) to load")
    ds = datasets.load_dataset(
        "parquet",
        data_dir=str(data_dir),
        split="train",
        cache_dir=None if cache_dir is None else str(cache_dir),
    )
    order = np.argsort(np.asarray(ds.data.column("model_id")), kind="stable")
    return ds.select(order)


# --------------------------------------------------------------------------- dataset card


_GATES = {
    "ir": "reset gate, input",
    "iz": "update gate, input",
    "in": "candidate, input",
    "hr": "reset gate, hidden",
    "hz": "update gate, hidden",
    "hn": "candidate, hidden",
}


def _tensor_meaning(path: str) -> str:
    parts = path.split("/")
    if parts[:2] == ["DecoderGRUCell_0", "Dense_0"]:
        return f"decoder readout {parts[2]} (logits = s W + b)"
    cell = "decoder GRU" if parts[0] == "DecoderGRUCell_0" else "encoder GRU"
    return f"{cell}, {_GATES[parts[-2]]} {parts[-1]}"


def _size_category(n: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < bound:
            return name
    return "100K<n<1M"


def dataset_card(config: ZooConfig) -> str:
    """The zoo's ``README.md``: YAML front matter (``configs`` pointing ``datasets`` and the
    Hub at ``data/train-*.parquet``, license, task categories, tags, pretty name, size
    category), then the task, model, hyperparameters, columns and labels, from ``config``.
    """
    shapes = tensor_shapes(config)
    c = config
    d = c.max_digits
    digits = "1 digit" if d == 1 else f"1 to {d} digits"
    if c.operands == "small-addend":
        operand_rule = (f"One operand is uniform on 0..{min(100, 10**d) - 1}, the other uniform "
                        f"on 0..{10**d - 1}, and the smaller is written first (the problem "
                        "generator of flax's seq2seq example).")
    else:
        if c.digit_weights is None:
            length_rule = "length uniform"
        else:
            from zoo_builder.task import digit_probabilities

            probs = digit_probabilities(d, c.digit_weights)
            length_rule = "length 1, 2, ... with probabilities " + ", ".join(
                f"{p:.3g}" for p in probs)
        operand_rule = (f"Operands have {digits} ({length_rule}, then value uniform among "
                        "numbers of that length).")
    schedule_rule = (", the peak of a cosine decay to 0 over the steps"
                     if c.lr_schedule == "cosine" else ", constant")
    vocab = ", ".join(f"`{ch}`" for ch in VOCAB[:10]) + ", `+`, `=`, `<EOS>`, `<PAD>`"
    meta_rows = [
        ("model_id", "int64", f"model id, 0 .. {c.num_models - 1}"),
        ("group", "int32", "training group (models trained together; shard number)"),
        ("learning_rate", "float64", f"Adam learning rate, log-uniform on [{c.lr_min}, "
         f"{c.lr_max}]"),
        ("batch_size", "int32", f"batch size, uniform on {{{', '.join(map(str, c.batch_sizes))}}}"),
        ("steps", "int32", "Adam steps"),
        ("seed", "int64", "zoo seed (model i's randomness derives from (seed, i))"),
        ("test_sr", "float32", "test success rate (the label), in [0, 1]"),
        ("test_loss", "float32", "loss on the test set"),
        ("train_loss", "float32", f"final loss on the first {min(c.n_train_eval, c.n_train_pool)}"
         " training-pool problems"),
    ]
    tensor_rows = [
        (path, f"float32 {shape}", _tensor_meaning(path)) for path, shape in shapes.items()
    ]
    table = "\n".join(
        f"| `{name}` | {kind} | {meaning} |" for name, kind, meaning in meta_rows + tensor_rows
    )
    front = f"""---
license: cc-by-4.0
pretty_name: Tiny RNN Zoo ({c.preset})
task_categories:
- tabular-regression
tags:
- weight-space-learning
- model-zoo
- neural-network-weights
- gru
- seq2seq
- jax
- flax
size_categories:
- {_size_category(c.num_models)}
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
---
"""
    body = f"""
# Tiny RNN Zoo ({c.preset} preset)

{c.num_models:,} trained seq2seq GRU models, one row per model: its hyperparameters, its
test success rate and losses, and its {len(shapes)} weight tensors. Built by `tinyzoo`
from the `{c.preset}` preset (config fingerprint `{c.fingerprint()}`, zoo seed {c.seed});
`manifest.json` holds the full config, the library versions and every shard's sha256.

```python
import datasets
zoo = datasets.load_dataset("path/to/this/folder", split="train")  # or the Hub repo id
# or: datasets.load_dataset("parquet", data_dir="path/to/this/folder", split="train")
zoo = zoo.sort("model_id").with_format("numpy")  # tensor columns as arrays of their shapes
```

## Task

Character-level addition: `"15+20="` is completed as `"35<EOS>"`. {operand_rule} The
vocabulary has {VOCAB_SIZE} one-hot tokens:
{vocab}.
Questions are left-padded to {2 * d + 2} characters, answers (digits, then `<EOS>`)
right-padded to {d + 2}. Every
model is tested on one shared held-out set of {c.n_test} problems and trained on
batches drawn from a pool of {c.n_train_pool} distinct problems disjoint from it.

## Model

A seq2seq GRU without embeddings: an encoder `GRUCell` (hidden size H = {c.hidden}) reads
the one-hot question; its final state starts a decoder `GRUCell` whose state goes
through a dense readout to {VOCAB_SIZE} logits. The decoder reads the previous answer
character (teacher forcing in training, its own greedy prediction at test), starting
from `=`. Each cell follows flax: `r = sigmoid(x W_ir + b_ir + h W_hr)`,
`z = sigmoid(x W_iz + b_iz + h W_hz)`, `n = tanh(x W_in + b_in + r * (h W_hn + b_hn))`,
`h' = (1 - z) * n + z * h`. {len(shapes)} tensors in all, named by their path in flax's
`params` tree.

## Training and hyperparameters

- optimiser: Adam, {c.steps} steps, loss = mean over the batch of the summed
  cross-entropy of the answer tokens up to and including `<EOS>`;
- learning rate: log-uniform on [{c.lr_min}, {c.lr_max}]{schedule_rule};
- batch size: uniform on {{{", ".join(map(str, c.batch_sizes))}}};
- initialisation: flax defaults; model i's initialisation, batches and hyperparameters
  derive from (zoo seed {c.seed}, i) only.

## Columns

| name | type / shape | meaning |
|---|---|---|
{table}

## Label

`test_sr` is the fraction of the {c.n_test} test problems whose greedy completion
equals the answer followed by `<EOS>` exactly (every character up to and including
`<EOS>`).

## License

CC BY 4.0.
"""
    return front + body
