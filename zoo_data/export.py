"""Export a zoo for other tools: one ``.npz`` for the paper's predictor script, or one
``.safetensors`` file per model for PyTorch users.

**npz** (the layout read by ``learned_optimization/research/univ_nfn/gen_pred/
train_pred.py``): for every tensor, an array keyed by its ``/``-joined path inside
flax's ``"params"`` (``"GRUCell_0/hn/kernel"``, ``"DecoderGRUCell_0/Dense_0/bias"``) of
shape ``(N, *tensor_shape, 1)``: the model axis first and a trailing channel axis of
size 1; plus ``test_srs`` ``(N,)`` and ``test_losses`` ``(N,)`` (float32). Models are
ordered train, then val, then test (:mod:`zoo_data.archive.splits`), so for the ``paper``
preset indices 0-7999 / 8000-8999 / 9000-9999 are train / val / test, as the script
assumes. There is no other key: the script treats every key except the two label
arrays as a weight tensor. The file is written as a zip of ``.npy`` members one tensor
at a time (uncompressed, zip64), so memory stays at one chunk of one tensor.

**safetensors**: ``OUT/model-<id:05d>.safetensors`` per model with its 22 tensors (same
keys and shapes as in the zoo, float32) and string metadata: ``model_id``, ``split``,
``test_sr``, ``test_loss``, ``train_loss``, ``learning_rate``, ``batch_size``,
``steps``, ``seed``, ``run_id``, ``step``, the zoo's varied hyperparameters,
``preset``, ``config_fingerprint``, ``zoo_manifest_sha256`` (a Tiny RNN Zoo's; other
families' files carry their family's text,
:meth:`zoo_data.families.base.ZooFamily.export_metadata`: a Small CNN Zoo's every
metadata column of the row).

Both work on rows: in a zoo with checkpoints every checkpoint is one entry of the
``.npz`` arrays (a model's checkpoints next to each other, in step order) and one
safetensors file.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from zoo_data.archive.splits import SPLITS, split_of_rows, split_rows
from zoo_data.common.atomic import atomic_target, atomic_write
from zoo_data.common.progress import progress_bar
from zoo_data.common.trees import flatten
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["EXPORT_FORMATS", "npz_order", "export_npz", "export_safetensors", "export_zoo"]

#: ``"npz"``: one file in the layout of the paper's script; ``"safetensors"``: a file a model.
EXPORT_FORMATS = ("npz", "safetensors")

_NPZ_CHUNK_MODELS = 256


def npz_order(zoo: Zoo) -> np.ndarray:
    """The rows (``model_id``) in the order of the ``.npz`` file: train, val, test (each
    model's checkpoints together, in step order)."""
    return np.concatenate([split_rows(zoo.config, name) for name in SPLITS])


def export_npz(zoo: Zoo, out: str | os.PathLike, progress: bool = True) -> Path:
    """Write every model of ``zoo`` to ``out`` as one ``.npz`` (see the module
    docstring); atomically, so ``out`` is never half written. Returns ``out``."""
    out = Path(out)
    _check_parent(out)
    if zoo.split is not None:
        zoo = zoo.with_split(None)
    ids = npz_order(zoo)
    shapes = zoo.tensor_shapes
    bar = progress_bar(len(shapes) * len(ids), f"exporting {out.name}", "tensor",
                       enabled=progress)
    with bar, atomic_target(out) as tmp, zipfile.ZipFile(
            tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path, shape in shapes.items():
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")),
                      "fortran_order": False, "shape": (len(ids), *shape, 1)}
            with zf.open(f"{path}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_2_0(member, header)
                for start in range(0, len(ids), _NPZ_CHUNK_MODELS):
                    chunk = ids[start : start + _NPZ_CHUNK_MODELS]
                    arr = zoo.tensors(chunk, columns=[path])[path]
                    member.write(np.ascontiguousarray(arr, "<f4").tobytes())
                    bar.update(len(chunk))
        meta = zoo.metadata.loc[ids]
        for key, column in (("test_srs", "test_sr"), ("test_losses", "test_loss")):
            with zf.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, meta[column].to_numpy(np.float32))
    return out


def _check_parent(out: Path) -> None:
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise TinyZooError(f"{out}: is a directory; give a file name, e.g. zoo.npz")
    if not parent.is_dir():
        raise TinyZooError(f"{out}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TinyZooError(f"{out}: folder {parent} is not writable")


def export_safetensors(
    zoo: Zoo, out_dir: str | os.PathLike, progress: bool = True, batch_size: int = 64
) -> list[Path]:
    """Write one ``model-<id:05d>.safetensors`` per model of ``zoo`` (its split, or all)
    into ``out_dir`` (created if needed), each atomically. Returns the paths."""
    from safetensors.numpy import save

    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise TinyZooError(f"{out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TinyZooError(f"{out_dir}: cannot create ({e.strerror or e})") from e
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise TinyZooError(f"{out_dir}: directory is not writable")
    meta = zoo.metadata
    splits = split_of_rows(zoo.config, zoo.model_ids)
    split_by_id = dict(zip(zoo.model_ids.tolist(), splits.tolist(), strict=True))
    common = {
        "preset": zoo.config.preset,
        "config_fingerprint": zoo.config.fingerprint(),
        "zoo_manifest_sha256": zoo.manifest_sha256,
    }
    written = []
    with progress_bar(len(zoo), f"exporting to {out_dir}", "model",
                      enabled=progress) as bar:
        for batch in zoo.batches(batch_size):
            flat = flatten(batch.params)
            for k, model_id in enumerate(batch.model_id.tolist()):
                row = meta.loc[model_id]
                metadata = {**common, **zoo.family.export_metadata(
                    zoo.config, row, model_id, split_by_id[model_id])}
                tensors = {p: np.ascontiguousarray(a[k]) for p, a in flat.items()}
                path = out_dir / f"model-{model_id:05d}.safetensors"
                atomic_write(path, save(tensors, metadata=metadata))
                written.append(path)
            bar.update(len(batch.model_id))
    return written


def export_zoo(zoo_dir: str | os.PathLike, format: str, out: str | os.PathLike,
               split: str | None = None, progress: bool = True) -> tuple[Zoo, list[Path]]:
    """Export the zoo in ``zoo_dir`` in ``format`` (one of :data:`EXPORT_FORMATS`) to
    ``out``; ``split`` (safetensors only) exports one split. Returns the zoo (its split)
    and the files written.

    Raises:
      TinyZooError: naming an unknown format, a split given with ``npz`` (the file
        always holds every model), or the file or folder that cannot be written.
    """
    if format not in EXPORT_FORMATS:
        raise TinyZooError(f"format {format!r}: choose {' or '.join(EXPORT_FORMATS)}")
    if format == "npz" and split is not None:
        raise TinyZooError(f"split {split!r}: the npz file always holds every model "
                           "(train, val, test)")
    zoo = open_local_zoo(zoo_dir, split)
    if format == "npz":
        return zoo, [export_npz(zoo, out, progress=progress)]
    return zoo, export_safetensors(zoo, out, progress=progress)

