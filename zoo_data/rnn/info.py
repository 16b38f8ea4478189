"""``tinyzoo info`` of a Tiny RNN Zoo: its preset, checkpoints, splits, the spread of its
success rates and its hyperparameters, as a JSON-ready dict (:func:`rnn_summary`) and as
text (:func:`rnn_summary_lines`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zoo_data.archive.labels import sr_statistics
from zoo_data.archive.splits import SPLITS, split_of_rows
from zoo_data.rnn.presets import VARIATIONS

if TYPE_CHECKING:
    from zoo_data.zoo import Zoo

__all__ = ["rnn_summary", "rnn_summary_lines"]


def rnn_summary(zoo: Zoo) -> dict:
    """The summary of the Tiny RNN Zoo ``zoo`` (a :class:`zoo_data.zoo.Zoo` of all
    splits; checksums excluded)."""
    meta = zoo.metadata
    splits = split_of_rows(zoo.config, zoo.model_ids)
    return {
        "path": str(zoo.path),
        "preset": zoo.config.preset,
        "config_fingerprint": zoo.config.fingerprint(),
        "num_models": len(zoo),
        "models_trained": zoo.config.num_models,
        "checkpoints": list(zoo.config.checkpoint_steps),
        "recipe": zoo.config.recipe,
        "splits": {name: int(np.sum(splits == name)) for name in SPLITS},
        "sr": sr_statistics(meta["test_sr"].to_numpy()),
        "sr_by_split": {
            name: sr_statistics(meta["test_sr"].to_numpy()[splits == name]) for name in SPLITS
        },
        "hyperparameters": {
            "learning_rate": [float(meta["learning_rate"].min()),
                              float(meta["learning_rate"].max())],
            "batch_size": {str(k): int(v) for k, v in
                           sorted(meta["batch_size"].value_counts().items())},
            "steps": sorted(int(s) for s in meta["steps"].unique()),
            "lr_schedule": zoo.config.lr_schedule,
            **{name: [float(meta[name].min()), float(meta[name].max())]
               for name in zoo.config.varied},
        },
        "model": {"hidden": zoo.config.hidden, "max_digits": zoo.config.max_digits,
                  "operands": zoo.config.operands, "tensors": len(zoo.tensor_shapes)},
        "trainer_revision": zoo.config.trainer_revision,
        "builder_version": zoo.manifest.get("builder_version"),
        "versions": zoo.manifest.get("versions", {}),
        "manifest_sha256": zoo.manifest_sha256,
    }


def rnn_summary_lines(summary: dict) -> list[str]:
    """The summary's lines before the checksum line."""
    sr = summary["sr"]
    q = sr["quantiles"]
    hp = summary["hyperparameters"]
    return [
        f"zoo:            {summary['path']}",
        f"preset:         {summary['preset']} (config {summary['config_fingerprint']}, "
        f"hidden {summary['model']['hidden']}, operands up to "
        f"{summary['model']['max_digits']} digits, {summary['model']['operands']})",
        f"models:         {summary['num_models']:,}" if len(summary["checkpoints"]) == 1 else
        f"models:         {summary['models_trained']:,} x {len(summary['checkpoints'])} "
        f"checkpoints (after {', '.join(map(str, summary['checkpoints']))} steps) = "
        f"{summary['num_models']:,} rows",
        "splits:         " + ", ".join(f"{k} {v:,}" for k, v in summary["splits"].items()),
        "test SR:        mean {:.3f}; quantiles ".format(sr["mean"])
        + " ".join(f"q{k}={v:.3f}" for k, v in q.items()),
        "SR spread:      most common value {:.1%}, above 0.5 {:.1%}, below 0.1 {:.1%}".format(
            sr["most_common_share"], sr["share_above_0.5"], sr["share_below_0.1"]),
        "SR mean/split:  " + ", ".join(
            f"{k} {v['mean']:.3f}" for k, v in summary["sr_by_split"].items()),
        "learning rate:  {:.2e} .. {:.2e}".format(*hp["learning_rate"]),
        "batch sizes:    " + ", ".join(f"{k}: {v}" for k, v in hp["batch_size"].items()),
        "steps:          " + ", ".join(map(str, hp["steps"]))
        + f" ({hp['lr_schedule']} learning rate)",
        *(f"{name + ':':16s}{hp[name][0]:.3g} .. {hp[name][1]:.3g}" for name in VARIATIONS
          if name in hp),
        f"builder:        tiny-rnn-zoo {summary['builder_version']}, trainer revision "
        f"{summary['trainer_revision']} (jax "
        f"{summary['versions'].get('jax', '?')}, flax {summary['versions'].get('flax', '?')})",
        f"manifest:       sha256 {summary['manifest_sha256']}",
    ]
