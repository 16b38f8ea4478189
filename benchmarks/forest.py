"""Forest plots: one table of the board at a glance.

One figure per table (a zoo under one protocol): each method on its own line, its mean
test Kendall's tau as a dot and its 95% interval as a bar (the board's percentile
bootstrap, :mod:`benchmarks.significance`), in the table's order: the weight-space
methods, then the references (marked with squares; they read metadata only or run the
network), then the paper's published figures (hollow diamonds, ± their std, no
interval). A dashed vertical line marks the best reference that reads metadata only,
so a weight-space method left of it is beaten by the zoo's own records. Methods whose
tau is undefined are listed without a mark.

The PNG is written beside ``LEADERBOARD.md`` under ``forest/`` and embedded in
``index.html`` as a data URI, so the page still fetches nothing.
"""

from __future__ import annotations

import io
import math

import pandas as pd

__all__ = ["FOREST", "forest_name", "plot_forest"]

#: The folder (beside ``LEADERBOARD.md``) of the forest plots.
FOREST = "forest"


def forest_name(zoo: str, protocol_index: int = 0) -> str:
    """``"<zoo>.png"`` for a zoo's first table, ``"<zoo>-<k>.png"`` for its ``k``-th
    other protocol (as :func:`benchmarks.curves.curves_name`)."""
    return f"{zoo}.png" if protocol_index == 0 else f"{zoo}-{protocol_index}.png"


def _defined(value) -> bool:
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


def plot_forest(rows: pd.DataFrame, title: str, reference_kind: str) -> bytes:
    """The PNG bytes of the forest plot of one table's ``rows``
    (:func:`benchmarks.board.leaderboard_frame`'s rows, in board order);
    ``reference_kind``: the ``kind`` of the paper's published rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401  (MaxNLocator below)

    height = 1.0 + 0.32 * len(rows)
    fig, ax = plt.subplots(figsize=(9.0, height), dpi=110)
    try:
        labels = []
        metadata_best = None
        for y, (_, row) in enumerate(rows.iterrows()):
            paper = row["kind"] == reference_kind
            reference = row["section"] == "references"
            labels.append(row["display_name"] + (" (paper)" if paper else ""))
            mean = row["test_tau_mean"]
            if not _defined(mean):
                continue
            if reference and row["reads"] == "metadata":
                metadata_best = mean if metadata_best is None else max(metadata_best, mean)
            if paper:
                std = row["test_tau_std"] if _defined(row["test_tau_std"]) else 0.0
                ax.errorbar(mean, y, xerr=std, fmt="D", mfc="white", color="0.35",
                            markersize=5, capsize=2)
                continue
            color = "C1" if reference else "C0"
            low, high = row["test_tau_ci_low"], row["test_tau_ci_high"]
            if _defined(low) and _defined(high):
                ax.plot([low, high], [y, y], color=color, linewidth=2.0, alpha=0.8)
            ax.plot(mean, y, "s" if reference else "o", color=color, markersize=5)
        if metadata_best is not None:
            ax.axvline(metadata_best, color="C1", linestyle="--", linewidth=0.9,
                       label="best metadata-only reference")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel("test Kendall's τ (mean over seeds, 95% CI)", fontsize=8)
        ax.set_title(title, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()
