"""The Tiny RNN Zoo's rows: its metadata columns and the shapes of its 22 tensors.

Shapes (``V = 14`` the vocabulary, ``H = config.hidden``): input kernels ``(V, H)``,
hidden kernels ``(H, H)``, GRU biases ``(H,)``, readout kernel ``(H, V)`` and bias
``(V,)``, keyed by their ``/``-joined path inside flax's ``"params"``. They follow from
the weight-space spec (:func:`zoo_data.rnn.spec.seq2seq_spec`): each axis label stands
for its size, so reading a zoo needs neither jax nor the model. The family-neutral
part of the schema (rows and checkpoints, labels): :mod:`zoo_data.archive.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zoo_data.archive.schema import ROW_COLUMNS
from zoo_data.common.trees import flatten
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.spec import HIDDEN, VOCAB, seq2seq_spec
from zoo_data.rnn.task import VOCAB_SIZE

__all__ = ["METADATA_COLUMNS", "metadata_columns", "tensor_shapes", "export_metadata"]

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


def metadata_columns(config: ZooConfig) -> dict[str, str]:
    """The metadata columns of ``config``'s rows, name -> ``datasets`` dtype:
    :data:`METADATA_COLUMNS`, then :data:`~zoo_data.archive.schema.ROW_COLUMNS` if the
    zoo has checkpoints, then one float64 column per varied hyperparameter
    (``config.varied``). A zoo that uses neither has exactly the columns of zoos built
    before they existed."""
    columns = dict(METADATA_COLUMNS)
    if config.checkpoints is not None:
        columns.update(ROW_COLUMNS)
    columns.update({name: "float64" for name in config.varied})
    return columns


def tensor_shapes(config: ZooConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor of one zoo model, keyed by its ``/``-joined
    path inside flax's ``"params"`` (e.g. ``"GRUCell_0/hn/kernel": (H, H)``), in sorted
    path order (module docstring)."""
    sizes = {HIDDEN: config.hidden, VOCAB: VOCAB_SIZE}
    flat = flatten(seq2seq_spec())
    return {path: tuple(sizes[label] for label in flat[path]) for path in sorted(flat)}


def export_metadata(config: ZooConfig, row: Mapping[str, Any], model_id: int,
                    split: str) -> dict[str, str]:
    """A row's text metadata in an exported file (:mod:`zoo_data.export`): ``model_id``,
    ``split``, the labels and losses, learning rate, batch size, steps, seed, ``run_id``
    and ``step`` (filled by the reader in a zoo without checkpoints), then the varied
    hyperparameters; floats as their ``repr``."""
    return {
        "model_id": str(model_id),
        "split": split,
        "test_sr": repr(float(row["test_sr"])),
        "test_loss": repr(float(row["test_loss"])),
        "train_loss": repr(float(row["train_loss"])),
        "learning_rate": repr(float(row["learning_rate"])),
        "batch_size": str(int(row["batch_size"])),
        "steps": str(int(row["steps"])),
        "seed": str(int(row["seed"])),
        "run_id": str(int(row["run_id"])),
        "step": str(int(row["step"])),
        **{name: repr(float(row[name])) for name in config.varied},
    }
