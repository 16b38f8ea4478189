"""Learning curves: validation and test tau at every evaluation, per method, for one
table of the board (a zoo under one protocol).

Each record's runs carry ``val_tau_per_epoch`` (what the protocol selects on) and, since
the paper's budget was adopted, ``test_tau_per_epoch`` (the test predictions of every
evaluation, scored once training was over; never used for selection). The figure draws,
for each method, the mean over seeds at every evaluation (x: passes over the training
models) with a band of ± one sample standard deviation: validation solid, test dashed.
A run stopped early contributes up to its last evaluation, so later points average
fewer seeds.

:func:`running_max` is the figure the paper's script logs instead of a val-selected
one: the maximum over evaluations of the test tau, here the mean over seeds.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path

import numpy as np

from zoo_data.common.atomic import atomic_write

__all__ = ["CURVES", "SCALING_SUFFIX", "curves_name", "has_curves", "plot_learning_curves",
           "running_max"]

#: The folder (beside ``LEADERBOARD.md``) of the learning-curve figures.
CURVES = "curves"
#: How a data-scaling figure's name ends (:func:`scaling_name`).
SCALING_SUFFIX = "-data-scaling.png"


def scaling_name(zoo: str) -> str:
    """The data-scaling figure of zoo ``zoo`` (``scripts/data_scaling.py --plot``) in the
    board's folder, which the board links when it is there."""
    return f"{CURVES}/{zoo}{SCALING_SUFFIX}"


def curves_name(zoo: str, protocol_index: int = 0) -> str:
    """``"<preset>-<sha8>.png"`` for a zoo's first table, ``"<...>-<k>.png"`` for its
    ``k``-th other protocol."""
    return f"{zoo}.png" if protocol_index == 0 else f"{zoo}-{protocol_index}.png"


def has_curves(record: dict) -> bool:
    """Whether ``record`` has more than one evaluation in some run."""
    return any(len(run.get("val_tau_per_epoch") or []) > 1 for run in record["runs"])


def running_max(record: dict) -> float | None:
    """Mean over seeds of ``max(test_tau_per_epoch)`` (undefined taus skipped), or
    ``None`` when no run recorded its test curve."""
    maxima = []
    for run in record["runs"]:
        curve = [t for t in (run.get("test_tau_per_epoch") or []) if t is not None
                 and math.isfinite(t)]
        if curve:
            maxima.append(max(curve))
    return float(np.mean(maxima)) if maxima else None


def _mean_std(curves: list[list[float | None]]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std at each position over ``curves`` of any lengths (``None``
    and NaN skipped); NaN where nothing is left."""
    length = max(len(c) for c in curves)
    table = np.full((len(curves), length), np.nan)
    for i, curve in enumerate(curves):
        table[i, :len(curve)] = [np.nan if v is None else v for v in curve]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN positions stay NaN
        count = np.sum(~np.isnan(table), axis=0)
        mean = np.where(count > 0, np.nanmean(np.where(count > 0, table, 0.0), axis=0),
                        np.nan)
        std = np.where(count > 1, np.nanstd(table, axis=0, ddof=1) if len(curves) > 1
                       else 0.0, 0.0)
    return mean, std


def plot_learning_curves(records: list[dict], title: str,
                         out: str | os.PathLike) -> Path | None:
    """Draw the learning curves of ``records`` (one table: one zoo, one protocol) into
    the PNG ``out``, atomically; ``None`` (nothing written) when no record has more than
    one evaluation."""
    drawn = [r for r in records if has_curves(r) and r["protocol"] is not None]
    if not drawn:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.0, 4.6), dpi=120)
    try:
        for k, record in enumerate(drawn):
            per_epoch = record["protocol"].get("passes_per_epoch", 1)
            color = f"C{k % 10}"
            for key, style, label in (("val_tau_per_epoch", "-", "val"),
                                      ("test_tau_per_epoch", "--", "test")):
                curves = [run.get(key) for run in record["runs"] if run.get(key)]
                if not curves:
                    continue
                mean, std = _mean_std(curves)
                passes = per_epoch * np.arange(1, len(mean) + 1)
                ax.plot(passes, mean, style, color=color, linewidth=1.3,
                        label=f"{record['display_name']} ({label})")
                ax.fill_between(passes, mean - std, mean + std, color=color, alpha=0.12,
                                linewidth=0)
        ax.set_xlabel("passes over the training models")
        ax.set_ylabel("Kendall's τ (mean ± std over seeds)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, buffer.getvalue())
    return out
