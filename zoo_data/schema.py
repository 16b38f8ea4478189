"""The schema of a zoo's rows: one row per model, metadata columns then one column per
weight tensor, all of fixed shape.

Shapes (``V = 14`` the vocabulary, ``H = config.hidden``): input kernels ``(V, H)``,
hidden kernels ``(H, H)``, GRU biases ``(H,)``, readout kernel ``(H, V)`` and bias
``(V,)``; 22 tensors, keyed by their ``/``-joined path inside flax's ``"params"``. They
follow from the weight-space spec (:func:`zoo_data.spec.seq2seq_spec`): each axis
label stands for its size, so reading a zoo needs neither jax nor the model.
"""

from __future__ import annotations

from zoo_data.presets import ZooConfig
from zoo_data.spec import HIDDEN, VOCAB, seq2seq_spec
from zoo_data.task import VOCAB_SIZE
from zoo_data.trees import flatten

__all__ = [
    "LABEL",
    "LABEL_COLUMNS",
    "HYPERPARAMETERS",
    "METADATA_COLUMNS",
    "ROW_GROUP_BYTES",
    "tensor_shapes",
    "zoo_features",
    "model_nbytes",
    "rows_per_row_group",
]

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

#: The column holding a model's label: its success rate on the held-out test problems.
LABEL = "test_sr"

#: Columns measured on the held-out test problems: reading them is reading the label, so
#: no predictor may declare them.
LABEL_COLUMNS = ("test_sr", "test_loss")

#: The sampled hyperparameters of each model (every preset's); a metadata predictor
#: that declares them reads everything the zoo's design varied on purpose.
HYPERPARAMETERS = ("learning_rate", "batch_size")

#: Target size of one Parquet row group: small enough that reading one model for a
#: shuffled batch decodes little besides it, large enough to keep metadata negligible.
ROW_GROUP_BYTES = 1 << 20


def tensor_shapes(config: ZooConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor of one zoo model, keyed by its ``/``-joined
    path inside flax's ``"params"`` (e.g. ``"GRUCell_0/hn/kernel": (H, H)``), in sorted
    path order (see the module docstring)."""
    sizes = {HIDDEN: config.hidden, VOCAB: VOCAB_SIZE}
    flat = flatten(seq2seq_spec())
    return {path: tuple(sizes[label] for label in flat[path]) for path in sorted(flat)}


def zoo_features(config: ZooConfig):
    """The explicit ``datasets.Features`` of a zoo's rows (one row per model).

    Columns, in order: :data:`METADATA_COLUMNS` (``model_id`` int64, ``group`` int32,
    ``learning_rate`` float64, ``batch_size`` int32, ``steps`` int32, ``seed`` int64,
    ``test_sr``, ``test_loss``, ``train_loss`` float32), then one float32 column per
    parameter tensor in the order of :func:`tensor_shapes`: a 2-D tensor of shape
    ``(r, c)`` as ``Array2D(shape=(r, c))``, a 1-D tensor of length ``n`` as a
    fixed-length ``List(Value("float32"), length=n)``. (``datasets`` is imported here,
    not with the module: reading shards needs only pyarrow.)
    """
    import datasets

    features: dict = {name: datasets.Value(dtype) for name, dtype in METADATA_COLUMNS.items()}
    for path, shape in tensor_shapes(config).items():
        if len(shape) == 2:
            features[path] = datasets.Array2D(shape=shape, dtype="float32")
        elif len(shape) == 1:
            features[path] = datasets.List(datasets.Value("float32"), length=shape[0])
        else:  # pragma: no cover - the GRU has only matrices and vectors
            raise ValueError(f"tensor {path} has unsupported shape {shape}")
    return datasets.Features(features)


def model_nbytes(config: ZooConfig) -> int:
    """Bytes of one model's float32 parameters (``4 * sum of tensor sizes``)."""
    total = 0
    for shape in tensor_shapes(config).values():
        size = 1
        for d in shape:
            size *= d
        total += size
    return 4 * total


def rows_per_row_group(config: ZooConfig) -> int:
    """Models per Parquet row group: ``max(1, ROW_GROUP_BYTES // model_nbytes)``.

    27 for hidden 32 (37 KiB a model), 2 for hidden 128 (437 KiB a model). Row groups
    are the unit of random access of :class:`zoo_data.reader.ShardReader`.
    """
    return max(1, ROW_GROUP_BYTES // model_nbytes(config))
