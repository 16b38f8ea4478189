"""Small files in the Small CNN Zoo's published layout, for tests (the real ones cannot
be downloaded here): ``weights.npy`` (R, 4970) float32, ``metrics.csv.gz`` (a pandas
index column, the ``config.*`` columns of the published README, ``modeldir``, ``step``
and the four metrics), ``layout.csv`` (``varname``, ``start_idx``, ``end_idx``,
``size``, ``shape``; each layer's bias before its kernel, as published), and NFN's
split-file format (a stray first line ``0``, then a permutation of the rows).

Runs are laid out as published: the 9 checkpoints of a run in consecutive rows. A run's
test accuracy grows with its weights' scale at the last checkpoint, so the weights
carry signal a predictor can learn.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

STEPS = (0, 1, 2, 3, 20, 40, 60, 80, 86)
LAYERS = (("conv2d", (3, 3, 1, 16)), ("conv2d_1", (3, 3, 16, 16)),
          ("conv2d_2", (3, 3, 16, 16)), ("dense", (16, 10)))


def layout_frame() -> pd.DataFrame:
    rows, start = [], 0
    for name, shape in LAYERS:
        for kind, s in (("bias", (shape[-1],)), ("kernel", shape)):
            size = int(np.prod(s))
            rows.append({"varname": f"sequential/{name}/{kind}:0", "start_idx": start,
                         "end_idx": start + size, "size": size, "shape": str(s)})
            start += size
    assert start == 4970
    return pd.DataFrame(rows)


def write_published(folder: Path, runs: int = 40, seed: int = 0) -> dict:
    """Write the three files of a dataset with ``runs`` runs into ``folder``; returns
    ``{"weights": array, "metrics": frame, "layout": frame}``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = runs * len(STEPS)
    scale = np.exp(rng.uniform(-1.0, 1.0, runs))
    weights = np.empty((n, 4970), np.float32)
    metrics = []
    optimizers, activations = ("adam", "rmsprop", "sgd"), ("relu", "tanh")
    for r in range(runs):
        lr = float(np.exp(rng.uniform(np.log(5e-4), np.log(5e-2))))
        config = {
            "config.activation": activations[r % 2], "config.b_init": "zeros",
            "config.dataset": "cifar10", "config.dnn_architecture": "cnn",
            "config.dropout": float(rng.choice([0.0, 0.2, 0.5])), "config.epochs": 86,
            "config.epochs_between_checkpoints": 20,
            "config.init_std": float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5)))),
            "config.l2reg": float(np.exp(rng.uniform(np.log(1e-8), np.log(1e-2)))),
            "config.learning_rate": lr, "config.num_layers": 3, "config.num_units": 16,
            "config.optimizer": optimizers[r % 3], "config.random_seed": 42,
            "config.train_fraction": float(rng.choice([0.1, 0.25, 0.5, 1.0])),
            "config.w_init": "glorot_normal" if r % 4 else "he_normal",
        }
        for k, step in enumerate(STEPS):
            row = r * len(STEPS) + k
            growth = scale[r] * (0.3 + 0.7 * step / 86)
            weights[row] = rng.normal(0, 0.2, 4970) * growth
            acc = float(np.clip(0.1 + 0.45 * (growth / (1 + growth)) + rng.normal(0, 0.01),
                                0, 1))
            metrics.append({"modeldir": f"run_{r:05d}", "step": step, **config,
                            "test_accuracy": acc, "test_loss": 2.3 * (1 - acc),
                            "train_accuracy": min(1.0, acc + 0.02),
                            "train_loss": 2.2 * (1 - acc)})
    frame = pd.DataFrame(metrics)
    np.save(folder / "weights.npy", weights)
    frame.to_csv(folder / "metrics.csv.gz", compression="gzip")  # with its index, as pandas
    layout = layout_frame()
    layout.to_csv(folder / "layout.csv", index=False)
    return {"weights": weights, "metrics": frame, "layout": layout}


def write_split_file(path: Path, rows: int, seed: int = 1) -> np.ndarray:
    """NFN's split-file format: ``0`` (the header pandas wrote), then a permutation of
    ``range(rows)``, one per line; returns every index as NFN reads it."""
    perm = np.random.default_rng(seed).permutation(rows)
    path.write_text("0\n" + "\n".join(map(str, perm)) + "\n")
    return np.concatenate([[0], perm])


def write_archive(folder: Path, archive: Path, dataset: str = "cifar10") -> bytes:
    """``folder``'s three files as ``<dataset>/<file>`` in a ``.tar.xz``; returns its
    bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name in ("weights.npy", "metrics.csv.gz", "layout.csv"):
            tar.add(folder / name, arcname=f"{dataset}/{name}")
    archive.write_bytes(buffer.getvalue())
    return buffer.getvalue()
