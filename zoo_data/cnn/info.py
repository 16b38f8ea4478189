"""``tinyzoo info`` of an imported Small CNN Zoo: its source, checkpoint, split, the
spread of its labels (test accuracy) and its hyperparameters, as a JSON-ready dict
(:func:`cnn_summary`) and as text (:func:`cnn_summary_lines`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zoo_data.archive.labels import sr_statistics
from zoo_data.archive.splits import SPLITS, split_of_rows
from zoo_data.cnn.config import CATEGORICAL_HYPERPARAMETERS, NUMERIC_HYPERPARAMETERS

if TYPE_CHECKING:
    from zoo_data.zoo import Zoo

__all__ = ["cnn_summary", "cnn_summary_lines"]


def cnn_summary(zoo: Zoo) -> dict:
    """The summary of the imported zoo ``zoo`` (a :class:`zoo_data.zoo.Zoo` of all
    splits; checksums excluded)."""
    c = zoo.config
    meta = zoo.metadata
    splits = split_of_rows(c, zoo.model_ids)
    labels = meta["test_sr"].to_numpy()
    return {
        "path": str(zoo.path),
        "family": c.family,
        "preset": c.preset,
        "config_fingerprint": c.fingerprint(),
        "dataset": c.dataset,
        "checkpoint": c.checkpoint,
        "split_method": c.split_method_text(),
        "repeated_rows": c.repeated_rows,
        "num_models": len(zoo),
        "splits": {name: int(np.sum(splits == name)) for name in SPLITS},
        "sr": sr_statistics(labels),
        "sr_by_split": {name: sr_statistics(labels[splits == name]) for name in SPLITS},
        "hyperparameters": {
            **{n: [float(meta[n].min()), float(meta[n].max())]
               for n in NUMERIC_HYPERPARAMETERS},
            **{n: {str(k): int(v) for k, v in sorted(meta[n].value_counts().items())}
               for n in CATEGORICAL_HYPERPARAMETERS},
        },
        "model": {"tensors": len(zoo.tensor_shapes),
                  "weights": int(sum(np.prod(s) for s in zoo.tensor_shapes.values()))},
        "sources": dict(c.sources),
        "versions": zoo.manifest.get("versions", {}),
        "manifest_sha256": zoo.manifest_sha256,
    }


def cnn_summary_lines(summary: dict) -> list[str]:
    """The summary's lines before the checksum line."""
    sr, q, hp = summary["sr"], summary["sr"]["quantiles"], summary["hyperparameters"]
    return [
        f"zoo:            {summary['path']}",
        f"family:         Small CNN Zoo, {summary['dataset']} at step "
        f"{summary['checkpoint']} ({summary['preset']}, config "
        f"{summary['config_fingerprint']}, {summary['model']['weights']:,} weights in "
        f"{summary['model']['tensors']} tensors)",
        f"networks:       {summary['num_models']:,}",
        "splits:         " + ", ".join(f"{k} {v:,}" for k, v in summary["splits"].items())
        + f" ({summary['split_method']})",
        "test accuracy:  mean {:.3f}; quantiles ".format(sr["mean"])
        + " ".join(f"q{k}={v:.3f}" for k, v in q.items()),
        *(f"{n + ':':16s}{hp[n][0]:.3g} .. {hp[n][1]:.3g}" for n in NUMERIC_HYPERPARAMETERS),
        *(f"{n + ':':16s}" + ", ".join(f"{k}: {v}" for k, v in hp[n].items())
          for n in CATEGORICAL_HYPERPARAMETERS),
        *(f"source:         {name} sha256 {sha}" for name, sha in summary["sources"].items()),
        f"manifest:       sha256 {summary['manifest_sha256']}",
    ]
