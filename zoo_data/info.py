"""Summarise a zoo: size, splits, success-rate distribution, hyperparameters, checksums.

:func:`zoo_summary` returns a JSON-ready dict; :func:`format_summary` renders it as
text; :func:`write_sr_histogram` draws the success-rate histogram (one bar per split,
stacked) as a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo_data.archive.splits import SPLITS, split_of_rows
from zoo_data.archive.verify import verify_zoo
from zoo_data.cnn.info import cnn_summary, format_cnn_summary
from zoo_data.common.atomic import atomic_target
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import CNN_FAMILY, family_title, is_cnn
from zoo_data.rnn.presets import VARIATIONS
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["SR_QUANTILES", "sr_statistics", "zoo_summary", "format_summary",
           "write_sr_histogram", "describe_zoo"]

SR_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def sr_statistics(sr: np.ndarray) -> dict:
    """Quantiles, mean, the spread criterion's three fractions (largest share of one
    SR value, share above 0.5, share below 0.1) of success rates ``sr (N,)``."""
    sr = np.asarray(sr, np.float64)
    _, counts = np.unique(sr, return_counts=True)
    return {
        "count": int(sr.size),
        "mean": float(sr.mean()),
        "quantiles": {f"{q:g}": float(np.quantile(sr, q)) for q in SR_QUANTILES},
        "most_common_share": float(counts.max() / sr.size),
        "share_above_0.5": float(np.mean(sr > 0.5)),
        "share_below_0.1": float(np.mean(sr < 0.1)),
    }


def zoo_summary(zoo: Zoo, check: bool = True) -> dict:
    """A summary of the whole zoo ``zoo`` belongs to; ``check`` re-hashes every shard
    (:func:`~zoo_data.archive.verify.verify_zoo`) for the checksum status."""
    zoo = zoo.with_split(None)
    if is_cnn(zoo.config):
        summary = cnn_summary(zoo, sr_statistics)
        _add_checksums(summary, zoo, check)
        return summary
    meta = zoo.metadata
    splits = split_of_rows(zoo.config, zoo.model_ids)
    summary = {
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
    _add_checksums(summary, zoo, check)
    return summary


def _add_checksums(summary: dict, zoo: Zoo, check: bool) -> None:
    if check:
        report = verify_zoo(zoo.path)
        summary["checksums"] = {
            "status": "verified" if report.ok else "FAILED",
            "shards_checked": report.shards_checked,
            "problems": [f"{path}: {msg}" for path, msg in report.problems],
        }
    else:
        summary["checksums"] = {"status": "not checked"}


def format_summary(summary: dict) -> str:
    """The summary as aligned text lines."""
    if summary.get("family") == CNN_FAMILY:
        return "\n".join([*format_cnn_summary(summary), _checksum_line(summary)])
    sr = summary["sr"]
    q = sr["quantiles"]
    hp = summary["hyperparameters"]
    lines = [
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
    lines.append(_checksum_line(summary))
    return "\n".join(lines)


def _checksum_line(summary: dict) -> str:
    checks = summary["checksums"]
    status = checks["status"]
    if status == "verified":
        status += f" ({checks['shards_checked']} shards)"
    elif status == "FAILED":
        status += f": {len(checks['problems'])} problems, first: {checks['problems'][0]}"
    return f"checksums:      {status}"


def write_sr_histogram(zoo: Zoo, out: str | os.PathLike, bins: int = 20) -> Path:
    """Draw the test SR histogram of every model (stacked by split) into the PNG ``out``;
    :class:`TinyZooError` if ``out``'s folder does not exist."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    zoo = zoo.with_split(None)
    sr = zoo.labels
    splits = split_of_rows(zoo.config, zoo.model_ids)
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ax.hist([sr[splits == name] for name in SPLITS], bins=edges, stacked=True,
            label=[f"{name} ({int(np.sum(splits == name))})" for name in SPLITS])
    c = zoo.config
    ax.set_xlabel("test accuracy" if is_cnn(c) else "test success rate")
    ax.set_ylabel("models" if c.rows_per_model == 1 else "rows (model checkpoints)")
    ax.set_title(f"{family_title(c)} ({c.preset}): {len(sr):,} models" if c.rows_per_model == 1
                 else f"Tiny RNN Zoo ({c.preset}): {c.num_models:,} models x "
                      f"{c.rows_per_model} checkpoints")
    ax.legend(frameon=False)
    fig.tight_layout()
    out = Path(out)
    if not out.parent.is_dir():
        plt.close(fig)
        raise TinyZooError(f"{out}: folder {out.parent} does not exist")
    try:
        with atomic_target(out) as tmp, open(tmp, "wb") as f:
            fig.savefig(f, format="png")
    finally:
        plt.close(fig)
    return out


def describe_zoo(zoo_dir: str | os.PathLike, png: str | os.PathLike | None = None,
                 check: bool = True) -> dict:
    """:func:`zoo_summary` of the zoo in ``zoo_dir`` with its SR histogram written to
    ``png`` (default ``zoo_dir/sr_histogram.png``); the summary's ``histogram_png``
    names the file. With ``check``, a damaged shard is refused before anything is read
    (:func:`~zoo_data.zoo.open_local_zoo`)."""
    zoo = open_local_zoo(zoo_dir, verify=None if check else False)
    summary = zoo_summary(zoo, check=check)
    png_path = Path(png) if png is not None else Path(zoo_dir) / "sr_histogram.png"
    summary["histogram_png"] = str(write_sr_histogram(zoo, png_path))
    return summary
