"""The schema of a zoo's rows: one row per model (per model and checkpoint when the zoo
archives checkpoints), metadata columns then one column per weight tensor, all of fixed
shape.

Rows and models: ``model_id`` identifies a row, a set of weights. In a zoo without
checkpoints it is the id of the trained model (``run_id``, from which its
hyperparameters derive) and each model is one row. In a zoo with ``C`` checkpoints
(``config.checkpoints``) run ``r`` is archived as the ``C`` rows
``model_id = r * C + k``, ``k = 0 .. C-1``, with its weights and labels after step
``config.checkpoints[k]`` in column ``step``; splits go by run (:mod:`zoo_data.archive.splits`),
so all rows of a run share its split.

Shapes (``V = 14`` the vocabulary, ``H = config.hidden``): input kernels ``(V, H)``,
hidden kernels ``(H, H)``, GRU biases ``(H,)``, readout kernel ``(H, V)`` and bias
``(V,)``; 22 tensors, keyed by their ``/``-joined path inside flax's ``"params"``. They
follow from the weight-space spec (:func:`zoo_data.rnn.spec.seq2seq_spec`): each axis
label stands for its size, so reading a zoo needs neither jax nor the model.
"""

from __future__ import annotations

from zoo_data.cnn.config import (
    CATEGORICAL_HYPERPARAMETERS,
    NUMERIC_HYPERPARAMETERS,
    CNNZooConfig,
)
from zoo_data.cnn.layout import cnn_tensor_shapes
from zoo_data.common.trees import flatten
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.spec import HIDDEN, VOCAB, seq2seq_spec
from zoo_data.rnn.task import VOCAB_SIZE

__all__ = [
    "LABEL",
    "LABEL_COLUMNS",
    "HYPERPARAMETERS",
    "METADATA_COLUMNS",
    "CNN_METADATA_COLUMNS",
    "ROW_COLUMNS",
    "ROW_GROUP_BYTES",
    "metadata_columns",
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

#: The metadata columns of an imported Small CNN Zoo (:mod:`zoo_data.cnn.config`):
#: ``test_sr`` is the network's published test accuracy at the checkpoint (the fraction
#: of test images it classifies correctly: its success rate on its task), ``test_loss``,
#: ``train_loss`` and ``train_accuracy`` the published ones; ``source_index`` the row
#: in the published files, ``modeldir`` the run's name there; then the hyperparameters.
CNN_METADATA_COLUMNS: dict[str, str] = {
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

#: The columns of a zoo with checkpoints that place a row in its run: ``run_id`` (the
#: trained model whose hyperparameters the row holds) and ``step`` (the checkpoint).
#: Zoos without checkpoints do not store them; their readers fill ``run_id = model_id``
#: and ``step = steps``.
ROW_COLUMNS: dict[str, str] = {"run_id": "int64", "step": "int32"}

#: The column holding a model's label: its success rate on the held-out test problems.
LABEL = "test_sr"

#: Columns measured on the held-out test problems: reading them is reading the label, so
#: no predictor may declare them.
LABEL_COLUMNS = ("test_sr", "test_loss")

#: The hyperparameters every zoo samples per model; a zoo may vary more
#: (:func:`zoo_data.rnn.hparams.sampled_hyperparameters`).
HYPERPARAMETERS = ("learning_rate", "batch_size")

#: Target size of one Parquet row group: small enough that reading one model for a
#: shuffled batch decodes little besides it, large enough to keep metadata negligible.
ROW_GROUP_BYTES = 1 << 20


def metadata_columns(config: ZooConfig) -> dict[str, str]:
    """The metadata columns of ``config``'s rows, name -> ``datasets`` dtype:
    :data:`METADATA_COLUMNS`, then :data:`ROW_COLUMNS` if the zoo has checkpoints, then
    one float64 column per varied hyperparameter (``config.varied``). A zoo that uses
    neither has exactly the columns of zoos built before they existed. An imported Small
    CNN Zoo has :data:`CNN_METADATA_COLUMNS`."""
    if isinstance(config, CNNZooConfig):
        return dict(CNN_METADATA_COLUMNS)
    columns = dict(METADATA_COLUMNS)
    if config.checkpoints is not None:
        columns.update(ROW_COLUMNS)
    columns.update({name: "float64" for name in config.varied})
    return columns


def tensor_shapes(config: ZooConfig) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor of one zoo model, keyed by its ``/``-joined
    path inside flax's ``"params"`` (e.g. ``"GRUCell_0/hn/kernel": (H, H)``), in sorted
    path order (see the module docstring). For a Small CNN Zoo: its eight tensors
    (:data:`zoo_data.cnn.layout.TENSORS`)."""
    if isinstance(config, CNNZooConfig):
        return cnn_tensor_shapes()
    sizes = {HIDDEN: config.hidden, VOCAB: VOCAB_SIZE}
    flat = flatten(seq2seq_spec())
    return {path: tuple(sizes[label] for label in flat[path]) for path in sorted(flat)}


def zoo_features(config: ZooConfig):
    """The explicit ``datasets.Features`` of a zoo's rows (one row per model and
    checkpoint).

    Columns, in order: :func:`metadata_columns` (``model_id`` int64, ``group`` int32,
    ``learning_rate`` float64, ``batch_size`` int32, ``steps`` int32, ``seed`` int64,
    ``test_sr``, ``test_loss``, ``train_loss`` float32; with checkpoints ``run_id``
    int64 and ``step`` int32; a float64 column per varied hyperparameter), then one
    float32 column per
    parameter tensor in the order of :func:`tensor_shapes`: a 2-D tensor of shape
    ``(r, c)`` as ``Array2D(shape=(r, c))``, a 1-D tensor of length ``n`` as a
    fixed-length ``List(Value("float32"), length=n)``. (``datasets`` is imported here,
    not with the module: reading shards needs only pyarrow.)
    """
    import datasets

    features: dict = {name: datasets.Value(dtype)
                      for name, dtype in metadata_columns(config).items()}
    for path, shape in tensor_shapes(config).items():
        if len(shape) == 4:  # a convolution's kernel
            features[path] = datasets.Array4D(shape=shape, dtype="float32")
        elif len(shape) == 2:
            features[path] = datasets.Array2D(shape=shape, dtype="float32")
        elif len(shape) == 1:
            features[path] = datasets.List(datasets.Value("float32"), length=shape[0])
        else:  # pragma: no cover - the zoos have kernels, matrices and vectors
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
    are the unit of random access of :class:`zoo_data.archive.reader.ShardReader`.
    """
    return max(1, ROW_GROUP_BYTES // model_nbytes(config))
