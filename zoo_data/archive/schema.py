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

Which metadata columns and tensors a row has is the family's
(:meth:`zoo_data.families.base.ZooFamily.metadata_columns` and
:meth:`~zoo_data.families.base.ZooFamily.tensor_shapes`; the Tiny RNN Zoo's:
:mod:`zoo_data.rnn.schema`); the archive stores every tensor as a fixed-shape float32
column, so reading a zoo needs neither jax nor the model.
"""

from __future__ import annotations

from zoo_data.families.base import ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = [
    "LABEL",
    "LABEL_COLUMNS",
    "HYPERPARAMETERS",
    "ROW_COLUMNS",
    "ROW_GROUP_BYTES",
    "metadata_columns",
    "tensor_shapes",
    "zoo_features",
    "model_nbytes",
    "rows_per_row_group",
]

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


def metadata_columns(config: ZooConfigLike) -> dict[str, str]:
    """The metadata columns of ``config``'s rows, name -> ``datasets`` dtype, in order
    (its family's, :meth:`~zoo_data.families.base.ZooFamily.metadata_columns`)."""
    return dict(family_of(config).metadata_columns(config))


def tensor_shapes(config: ZooConfigLike) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor of one of ``config``'s networks, keyed by its
    ``/``-joined path, in sorted path order (its family's,
    :meth:`~zoo_data.families.base.ZooFamily.tensor_shapes`)."""
    return dict(family_of(config).tensor_shapes(config))


def zoo_features(config: ZooConfigLike):
    """The explicit ``datasets.Features`` of a zoo's rows (one row per model and
    checkpoint).

    Columns, in order: :func:`metadata_columns` (a Tiny RNN Zoo's: ``model_id`` int64,
    ``group`` int32, ``learning_rate`` float64, ``batch_size`` int32, ``steps`` int32,
    ``seed`` int64, ``test_sr``, ``test_loss``, ``train_loss`` float32; with checkpoints
    ``run_id`` int64 and ``step`` int32; a float64 column per varied hyperparameter),
    then one float32 column per parameter tensor in the order of :func:`tensor_shapes`:
    a 4-D tensor (a convolution's kernel) as ``Array4D``, a 2-D tensor of shape
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


def model_nbytes(config: ZooConfigLike) -> int:
    """Bytes of one model's float32 parameters (``4 * sum of tensor sizes``)."""
    total = 0
    for shape in tensor_shapes(config).values():
        size = 1
        for d in shape:
            size *= d
        total += size
    return 4 * total


def rows_per_row_group(config: ZooConfigLike) -> int:
    """Models per Parquet row group: ``max(1, ROW_GROUP_BYTES // model_nbytes)``.

    27 for hidden 32 (37 KiB a model), 2 for hidden 128 (437 KiB a model). Row groups
    are the unit of random access of :class:`zoo_data.archive.reader.ShardReader`.
    """
    return max(1, ROW_GROUP_BYTES // model_nbytes(config))
