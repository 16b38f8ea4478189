"""Write a whole zoo folder from rows a family supplies: the one write loop of imports
(the Small CNN Zoo's published files, or any family's networks made elsewhere).

:func:`write_zoo` prepares the folder (manifest ``"complete": false`` and card,
:func:`zoo_data.archive.folder.prepare_zoo_dir`), asks ``group_table(group)`` for the
rows of every archive group not yet complete, writes each as the group's files
(:func:`zoo_data.archive.shard_files.write_group`) and finalises the manifest. A
killed write resumes: complete groups are kept, the rest are written again.
:func:`rows_table` makes one group's Arrow table of the zoo's schema from plain arrays.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa

from zoo_data.archive.folder import complete_group, finalize, prepare_zoo_dir
from zoo_data.archive.layout import TrainingGroup, ZooLayout
from zoo_data.archive.schema import tensor_shapes, zoo_features
from zoo_data.archive.shard_files import tensor_column, write_group
from zoo_data.common.progress import progress_bar
from zoo_data.errors import TinyZooError

__all__ = ["rows_table", "write_zoo"]


def rows_table(config, columns: Mapping[str, np.ndarray],
               tensors: Mapping[str, np.ndarray]) -> pa.Table:
    """``M`` rows of ``config``'s zoo as one table of its schema
    (:func:`zoo_data.archive.schema.zoo_features`): ``columns`` maps every metadata
    column to ``(M,)`` values, ``tensors`` every tensor path to ``(M, *shape)``.

    Raises:
      TinyZooError: naming a missing column or tensor, or a tensor of the wrong shape."""
    schema = zoo_features(config).arrow_schema
    shapes = tensor_shapes(config)
    arrays = []
    for field in schema:
        if field.name in shapes:
            if field.name not in tensors:
                raise TinyZooError(f"rows_table: tensor {field.name!r} is missing")
            values = np.asarray(tensors[field.name])
            if values.shape[1:] != shapes[field.name]:
                raise TinyZooError(f"rows_table: tensor {field.name!r} has shape "
                                   f"{values.shape[1:]}, need {shapes[field.name]}")
            arrays.append(tensor_column(values, field.type))
        elif field.name in columns:
            arrays.append(pa.array(np.asarray(columns[field.name]), type=field.type))
        else:
            raise TinyZooError(f"rows_table: column {field.name!r} is missing")
    return pa.Table.from_arrays(arrays, schema=schema)


def write_zoo(out: str | os.PathLike, config,
              group_table: Callable[[TrainingGroup], pa.Table], *,
              progress: bool = False, description: str | None = None,
              unit: str = "model") -> ZooLayout:
    """Write ``config``'s zoo into the folder ``out`` (module docstring); returns its
    layout. ``group_table(group)`` gives the rows of ``group.model_ids`` in that order,
    as :func:`rows_table` makes them. ``progress``: a display of ``description``,
    counted in ``unit``.

    Raises:
      TinyZooError: from the folder checks (another config's zoo in ``out``, say);
        ValueError: a group's table of another row count or schema. Nothing is marked complete
        unless every group was written."""
    out = Path(out)
    layout = ZooLayout.of(config)
    prepare_zoo_dir(out, layout)
    todo = [g for g in layout.groups if complete_group(out, layout, g.index) is None]
    done = config.num_models - sum(len(g.model_ids) for g in todo)
    bar = progress_bar(config.num_models, description or f"writing {config.preset}",
                       unit, enabled=progress, initial=done)
    for group in todo:
        write_group(out, layout, group.index, group_table(group))
        bar.update(len(group.model_ids))
    bar.close()
    finalize(out, layout)
    return layout
