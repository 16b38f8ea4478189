"""Summarise a zoo: size, splits, success-rate distribution, hyperparameters, checksums.

:func:`zoo_summary` returns a JSON-ready dict; :func:`format_summary` renders it as
text; :func:`write_sr_histogram` draws the success-rate histogram (one bar per split,
stacked) as a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from zoo_data.archive.labels import SR_QUANTILES, sr_statistics
from zoo_data.archive.splits import SPLITS, split_of_rows
from zoo_data.archive.verify import verify_zoo
from zoo_data.common.atomic import atomic_target
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import family_named, recorded_family
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["SR_QUANTILES", "sr_statistics", "zoo_summary", "format_summary",
           "write_sr_histogram", "describe_zoo"]


def zoo_summary(zoo: Zoo, check: bool = True) -> dict:
    """A summary of the whole zoo ``zoo`` belongs to (its family's,
    :meth:`~zoo_data.families.base.ZooFamily.summary`); ``check`` re-hashes every shard
    (:func:`~zoo_data.archive.verify.verify_zoo`) for the checksum status."""
    zoo = zoo.with_split(None)
    summary = zoo.family.summary(zoo)
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
    """The summary as aligned text lines: its family's
    (:meth:`~zoo_data.families.base.ZooFamily.summary_lines`; a summary without
    ``family`` is a Tiny RNN Zoo's), then the checksum line."""
    family = family_named(recorded_family(summary))
    return "\n".join([*family.summary_lines(summary), _checksum_line(summary)])


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
    c, title = zoo.config, zoo.family.title
    ax.set_xlabel(zoo.family.label_name)
    ax.set_ylabel("models" if c.rows_per_model == 1 else "rows (model checkpoints)")
    ax.set_title(f"{title} ({c.preset}): {len(sr):,} models" if c.rows_per_model == 1
                 else f"{title} ({c.preset}): {c.num_models:,} models x "
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
