"""The splits of an imported Small CNN Zoo: NFN's (default) and ours.

Both take the rows of the published files at one checkpoint and return, per split,
the published row indices in the order the import numbers them.

**NFN's split** (``nfn``; Zhou et al. 2023, ``experiments/data_utils.py`` of
AllanYangZhou/nfn, also used by neural-graphs and ScaleGMN), from the split file
``<dataset>_split.csv`` NFN publishes: one row index per line, read as NFN reads it
(``pandas.read_csv(header=None)``: every line is an index, the first line ``0``
included, so published row 0 is listed twice). Then:

1. ``rows`` = the file's indices in order, kept where the row's ``step`` is the
   checkpoint (NFN: 86, the last); ``N = len(rows)``;
2. test = ``rows[int(0.5 N):]``, in order;
3. ``t = list(range(int(0.5 N)))`` shuffled in place by Python's
   ``random.Random(0).shuffle``; train = ``rows[t[:int(0.8 len(t))]]``, val = the
   rest of ``rows[t]``.

So 40% / 10% / 50% (12,000 / 3,000 / 15,000 of CIFAR-10-GS's 30,000 runs).

**Ours** (``runs``): every run at the checkpoint, ordered by the sha256 of its
``modeldir`` (an order independent of how the files are sorted, and of the run's
hyperparameters), cut 80/10/10 as every zoo of this project
(:func:`zoo_data.archive.splits.split_sizes`).
"""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import numpy as np

from zoo_data.archive.splits import split_sizes
from zoo_data.errors import TinyZooError

__all__ = ["NFN_SPLIT_FILES", "read_split_file", "nfn_split", "run_split",
           "split_definitions"]

#: NFN's split files at the commit read for this project (AllanYangZhou/nfn
#: ce783221fd7c, ``experiments/predict_gen_data_splits/``): dataset -> (URL, sha256).
NFN_SPLIT_FILES: dict[str, tuple[str, str]] = {
    dataset: (
        "https://raw.githubusercontent.com/AllanYangZhou/nfn/"
        f"ce783221fd7c511596220d805c7a5beccd764ee8/experiments/predict_gen_data_splits/"
        f"{name}_split.csv",
        sha,
    )
    for dataset, name, sha in (
        ("cifar10", "cifar10",
         "04fb71937dc796fc64f6306457de9d95f0d2d8a343db856213b965a4953a4f67"),
        ("svhn_cropped", "svhn",
         "c1dcfc521f38071bb4ac2af4866a38a4d2d468630ef60bb70f9ae75c681fc60c"),
        ("mnist", "mnist",
         "b516aea9d62a8c8f2acb5b92abfedc4c1f0c2f6f9afd716835ec75103c25cf3b"),
        ("fashion_mnist", "fashion_mnist",
         "0d13165d28963acdac000d3d033da58b5719920f7d19aadf310173823053b021"),
    )
}


def read_split_file(path: str | os.PathLike, num_rows: int) -> np.ndarray:
    """The indices of an NFN split file, every line one (the first included, as NFN's
    ``header=None`` reads it), as int64.

    Raises:
      TinyZooError: one line naming the file and line: not an integer, or not a row of
        the ``num_rows`` published rows.
    """
    path = Path(path)
    try:
        lines = path.read_text().split()
    except (OSError, UnicodeDecodeError) as e:
        raise TinyZooError(f"{path}: cannot read ({e})") from None
    out = np.empty(len(lines), np.int64)
    for k, line in enumerate(lines):
        if not line.isdigit():
            raise TinyZooError(f"{path}: line {k + 1}: {line[:20]!r} is not a row index")
        out[k] = int(line)
    if len(out) == 0:
        raise TinyZooError(f"{path}: no row index")
    if out.max() >= num_rows:
        k = int(np.argmax(out >= num_rows))
        raise TinyZooError(f"{path}: line {k + 1}: row {out[k]}, but the published files "
                           f"have {num_rows:,} rows")
    return out


def nfn_split(order: np.ndarray, steps: np.ndarray, checkpoint: int) -> dict[str, np.ndarray]:
    """NFN's split (module docstring): ``order`` the split file's indices, ``steps``
    ``(R,)`` the published ``step`` of every row. Returns ``{"train", "val", "test"}``
    -> published row indices (int64), in NFN's order."""
    rows = order[np.asarray(steps)[order] == checkpoint]
    n = len(rows)
    cut = int(0.5 * n)
    trainval = list(range(cut))
    random.Random(0).shuffle(trainval)
    val_point = int(0.8 * len(trainval))
    trainval = np.asarray(trainval, np.int64)
    return {"train": rows[trainval[:val_point]], "val": rows[trainval[val_point:]],
            "test": rows[cut:]}


def run_split(modeldir: np.ndarray, steps: np.ndarray,
              checkpoint: int) -> dict[str, np.ndarray]:
    """Our split (module docstring): ``modeldir`` and ``steps`` ``(R,)`` of every
    published row. Returns ``{"train", "val", "test"}`` -> published row indices.

    Raises:
      TinyZooError: if a run has two rows at the checkpoint.
    """
    rows = np.flatnonzero(np.asarray(steps) == checkpoint)
    names = [str(modeldir[r]) for r in rows]
    if len(set(names)) != len(names):
        raise TinyZooError(f"two rows of one run (modeldir) at step {checkpoint}")
    keys = [hashlib.sha256(name.encode()).hexdigest() for name in names]
    ordered = rows[np.argsort(np.asarray(keys), kind="stable")]
    sizes = split_sizes(len(ordered))
    a, b = sizes["train"], sizes["train"] + sizes["val"]
    return {"train": ordered[:a], "val": ordered[a:b], "test": ordered[b:]}


def split_definitions() -> dict:
    """The content of ``data/splits/small-cnn-zoo.json``: each split method's rule and,
    for NFN's, the split file of each dataset (URL at the pinned commit and sha256).
    Which networks fall where depends on the published files, so the counts are in each
    imported zoo's manifest, and its ``source_index`` column maps ids to published rows.
    """
    return {
        "family": "small-cnn-zoo",
        "default_checkpoint": "the last published step (86)",
        "methods": {
            "nfn": {
                "rule": "split-file indices in order, every line an index (the stray "
                        "first line 0 included, as NFN reads it); keep rows at the "
                        "checkpoint; test = the second half in order; the first half "
                        "shuffled by Python random.Random(0): train its first 80%, val "
                        "the rest; model ids: train, then val, then test",
                "split_files": {dataset: {"url": url, "sha256": sha}
                                for dataset, (url, sha) in NFN_SPLIT_FILES.items()},
            },
            "runs": {
                "rule": "every run at the checkpoint, ordered by sha256 of its modeldir; "
                        "80/10/10 (zoo_data.splits.split_sizes); model ids: train, then "
                        "val, then test",
            },
        },
    }


if __name__ == "__main__":
    # rewrite data/splits/small-cnn-zoo.json: python -m zoo_data.cnn.splits
    import json

    target = Path(__file__).resolve().parent.parent / "data" / "splits" / "small-cnn-zoo.json"
    target.write_text(json.dumps(split_definitions(), indent=2) + "\n")
    print(f"wrote {target}")
