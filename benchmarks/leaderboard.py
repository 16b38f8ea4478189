"""Render the leaderboard from a folder of result records (:mod:`benchmarks.results`).

:func:`write_leaderboard` reads every record of ``RESULTS_DIR`` and writes into ``OUT``:

- ``LEADERBOARD.md``: one table per zoo (records grouped by preset and manifest sha256;
  the heading names the preset, the model count and the sha256 prefix), rows ranked by
  mean test Kendall's tau, highest first, undefined taus last; columns rank, method,
  test tau (mean ± sample std over seeds), val tau, Spearman, R², MAE, seeds,
  parameters, the permutation audit (max ``|Δ|`` of the predictions under hidden-unit
  permutations) and wall time. A table of the ``paper`` preset ends with the paper's
  Table 1 figures, unranked and marked "paper (reference)": they were measured on the
  paper's own zoo, not on this one.
- ``leaderboard.csv``: the same rows (reference rows included, ``kind`` =
  ``"paper (reference)"``, no rank) with full-precision numbers, one table for all zoos.
- ``plots/<preset>-<sha8>__<method>.png``: predicted against actual success rate on the
  test split (first seed) of each record, with its tau in the title.

Every file is written atomically. An empty or missing results folder gives a
``LEADERBOARD.md`` saying there are no results yet.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.audit import INVARIANCE_TOLERANCE
from benchmarks.results import read_results, result_filename, zoo_key
from zoo_data.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.presets import PRESETS

__all__ = [
    "PAPER_TABLE1",
    "REFERENCE_KIND",
    "LeaderboardReport",
    "leaderboard_frame",
    "plot_predictions",
    "render_markdown",
    "write_leaderboard",
]

#: Paper Table 1 (Tiny RNN Zoo, test Kendall's tau): method -> (mean, std or None).
PAPER_TABLE1: dict[str, tuple[float, float | None]] = {
    "STATNN": (0.8839, 0.0007),
    "UNF": (0.8968, 0.0006),
    "Deep Sets": (0.8306, None),
}
#: The preset whose tables carry the paper's reference rows.
PAPER_PRESET = "paper"
#: ``kind`` of the reference rows in the CSV.
REFERENCE_KIND = "paper (reference)"

CSV_COLUMNS: tuple[str, ...] = (
    "zoo", "preset", "manifest_sha256", "num_models", "num_test", "rank", "method",
    "display_name", "kind", "test_tau_mean", "test_tau_std", "test_tau_n", "val_tau_mean",
    "val_tau_std", "spearman_mean", "r2_mean", "mae_mean", "seeds", "param_count",
    "audit_max_abs_diff", "audit_num_permutations", "wall_time_s", "plot", "result_file",
)
MARKDOWN = "LEADERBOARD.md"
CSV = "leaderboard.csv"
PLOTS = "plots"
_DASH = "—"


@dataclass(frozen=True)
class LeaderboardReport:
    """What :func:`write_leaderboard` wrote."""

    markdown: Path
    csv: Path
    plots: list[Path]
    num_results: int
    num_zoos: int


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def _plot_name(record: dict) -> str:
    return result_filename(record).removesuffix(".json") + ".png"


def leaderboard_frame(records: list[dict]) -> pd.DataFrame:
    """One row per record, plus the paper's reference rows for each ``paper``-preset zoo,
    with :data:`CSV_COLUMNS`; sorted by zoo (preset order of
    :data:`zoo_data.presets.PRESETS`, then name, then more models first), then ranked
    rows by mean test tau (descending, undefined last, ties by method), then the
    reference rows. ``rank`` is 1 for the best; ties share a rank; undefined tau has
    none."""
    rows = []
    for record in records:
        zoo, summary = record["zoo"], record["summary"]
        audit = record["audit"] or {}
        rows.append({
            "zoo": zoo_key(zoo), "preset": zoo["preset"],
            "manifest_sha256": zoo["manifest_sha256"], "num_models": zoo["num_models"],
            "num_test": zoo["splits"]["test"], "method": record["method"],
            "display_name": record["display_name"], "kind": record["kind"],
            "test_tau_mean": _nan(summary["test_kendall_tau"]["mean"]),
            "test_tau_std": _nan(summary["test_kendall_tau"]["std"]),
            "test_tau_n": summary["test_kendall_tau"]["n"],
            "val_tau_mean": _nan(summary["val_kendall_tau"]["mean"]),
            "val_tau_std": _nan(summary["val_kendall_tau"]["std"]),
            "spearman_mean": _nan(summary["test_spearman"]["mean"]),
            "r2_mean": _nan(summary["test_r2"]["mean"]),
            "mae_mean": _nan(summary["test_mae"]["mean"]),
            "seeds": len(record["seeds"]), "param_count": record["param_count"],
            "audit_max_abs_diff": audit.get("max_abs_diff"),
            "audit_num_permutations": audit.get("num_permutations"),
            "wall_time_s": record["wall_time_s"],
            "plot": f"{PLOTS}/{_plot_name(record)}" if record["predictions"]["model_id"]
            else None,
            "result_file": result_filename(record),
        })
    zoos = {(r["zoo"], r["manifest_sha256"]): r for r in rows}
    for first in zoos.values():
        if first["preset"] != PAPER_PRESET:
            continue
        for name, (mean, std) in PAPER_TABLE1.items():
            rows.append({
                **{key: first[key] for key in ("zoo", "preset", "manifest_sha256",
                                               "num_models", "num_test")},
                "method": "paper-" + name.lower().replace(" ", "-"), "display_name": name,
                "kind": REFERENCE_KIND,
                "test_tau_mean": mean, "test_tau_std": _nan(std),
            })
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    if frame.empty:
        return frame
    order = {name: i for i, name in enumerate(PRESETS)}
    frame["_preset_order"] = frame["preset"].map(lambda p: order.get(p, len(order)))
    frame["_reference"] = frame["kind"] == REFERENCE_KIND
    frame = frame.sort_values(
        ["_preset_order", "preset", "num_models", "manifest_sha256", "_reference",
         "test_tau_mean", "method"],
        ascending=[True, True, False, True, True, False, True], na_position="last",
        kind="mergesort",
    )
    ranked = frame["test_tau_mean"].where(~frame["_reference"])
    frame["rank"] = (ranked.groupby(frame["zoo"] + frame["manifest_sha256"])
                     .rank(method="min", ascending=False).astype("Int64"))
    for column in ("num_models", "num_test", "test_tau_n", "seeds", "param_count",
                   "audit_num_permutations"):
        frame[column] = frame[column].astype("Int64")
    for column in ("audit_max_abs_diff", "wall_time_s"):
        frame[column] = frame[column].astype("float64")
    return frame.drop(columns=["_preset_order", "_reference"]).reset_index(drop=True)


# --------------------------------------------------------------------------- markdown


def _mean_std(mean: float, std: float) -> str:
    if pd.isna(mean):
        return "undefined"
    return f"{mean:.4f}" if pd.isna(std) else f"{mean:.4f} ± {std:.4f}"


def _number(value: float, fmt: str = ".4f") -> str:
    return _DASH if pd.isna(value) else format(value, fmt)


def _wall_time(seconds: float) -> str:
    if pd.isna(seconds):
        return _DASH
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


_HEADER = ("rank", "method", "test τ (mean ± std)", "val τ", "Spearman", "R²", "MAE",
           "seeds", "params", "audit max \\|Δ\\|", "wall time")
_ALIGN = ("---:", ":---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:",
          "---:")


def _markdown_row(row: pd.Series) -> list[str]:
    if row["kind"] == REFERENCE_KIND:
        return [_DASH, f"{_cell(row['display_name'])} — *{REFERENCE_KIND}*",
                _mean_std(row["test_tau_mean"], row["test_tau_std"])] + [_DASH] * 8
    name = _cell(row["display_name"])
    if row["kind"] != "builtin":
        name += f" ({row['kind']})"
    if isinstance(row["plot"], str):
        name = f"[{name}]({row['plot']})"
    audit = row["audit_max_abs_diff"]
    return [
        _DASH if pd.isna(row["rank"]) else str(int(row["rank"])),
        name,
        _mean_std(row["test_tau_mean"], row["test_tau_std"]),
        _DASH if pd.isna(row["val_tau_mean"]) else _mean_std(row["val_tau_mean"],
                                                               row["val_tau_std"]),
        _number(row["spearman_mean"]),
        _number(row["r2_mean"]),
        _number(row["mae_mean"]),
        str(int(row["seeds"])) if row["seeds"] else _DASH,
        _DASH if pd.isna(row["param_count"]) else f"{int(row['param_count']):,}",
        _DASH if pd.isna(audit) else (
            f"{audit:.1e}" if audit <= INVARIANCE_TOLERANCE else f"{audit:.1e} (not invariant)"),
        _wall_time(row["wall_time_s"]),
    ]


def render_markdown(frame: pd.DataFrame, results_dir: str | os.PathLike) -> str:
    """``LEADERBOARD.md``'s text for :func:`leaderboard_frame`'s ``frame``."""
    lines = ["# Leaderboard", ""]
    if frame.empty:
        lines += [
            f"No results yet: `{results_dir}` holds no result records. Score a predictor "
            "with `tinyzoo bench` or a CSV of test-split predictions with `tinyzoo submit`, "
            "then run `tinyzoo leaderboard` again.", "",
        ]
        return "\n".join(lines)
    measured = frame[frame["kind"] != REFERENCE_KIND]
    groups = list(frame.groupby(["zoo", "manifest_sha256"], sort=False))
    lines += [
        f"Generated by `tinyzoo leaderboard` from {len(measured)} result record"
        f"{'s' if len(measured) != 1 else ''} in `{results_dir}` on {len(groups)} zoo"
        f"{'s' if len(groups) != 1 else ''}; do not edit by hand. Test Kendall's tau-b "
        "is the mean ± sample standard deviation over seeds; the other columns are means "
        "over seeds. The field definitions are in `leaderboard/README.md`.", "",
    ]
    for (_, sha), group in groups:
        first = group.iloc[0]
        lines += [
            f"## {first['preset']}: {int(first['num_models']):,} models "
            f"({int(first['num_test']):,} test), manifest sha256 `{sha[:8]}`", "",
            "| " + " | ".join(_HEADER) + " |",
            "| " + " | ".join(_ALIGN) + " |",
        ]
        lines += ["| " + " | ".join(_markdown_row(row)) + " |" for _, row in group.iterrows()]
        lines.append("")
        if (group["kind"] == REFERENCE_KIND).any():
            lines += [
                "Rows marked *paper (reference)* are Table 1 of Zhou et al. (2024), "
                "measured on the paper's own (unreleased) Tiny RNN Zoo, not on this zoo; "
                "they are not ranked.", "",
            ]
    lines += [
        "Audit: the largest change of any prediction when the hidden units of the test "
        "models are permuted (an invariant predictor gives float rounding only; above "
        f"{INVARIANCE_TOLERANCE:g} it is marked not invariant); "
        f"{_DASH} where none was run. Plots of predicted against actual success rate are "
        "linked from the method names.", "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- plots


def plot_predictions(record: dict, out: str | os.PathLike) -> Path:
    """Draw predicted against actual test success rate of ``record`` (its
    ``predictions``, first seed) into the PNG ``out``, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    predictions = record["predictions"]
    predicted = np.asarray(predictions["predicted_sr"], np.float64)
    actual = np.asarray(predictions["actual_sr"], np.float64)
    run = record["runs"][0]
    tau = run["test"]["kendall_tau"]
    tau_text = "undefined" if tau is None else f"{tau:.4f}"
    seed = "" if run["seed"] is None else f"seed {run['seed']}, "
    fig, ax = plt.subplots(figsize=(4.8, 4.6), dpi=120)
    try:
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=1, zorder=1)
        ax.scatter(actual, predicted, s=8, alpha=0.6, linewidths=0, zorder=2)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_aspect("equal")
        ax.set_xlabel("actual test success rate")
        ax.set_ylabel("predicted success rate")
        ax.set_title(f"{record['display_name']} on {zoo_key(record['zoo'])}\n"
                     f"test Kendall's τ = {tau_text} ({seed}{len(actual):,} models)", fontsize=10)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    out = Path(out)
    atomic_write(out, buffer.getvalue())
    return out


# --------------------------------------------------------------------------- all of it


def write_leaderboard(
    results_dir: str | os.PathLike, out_dir: str | os.PathLike
) -> LeaderboardReport:
    """Read every record of ``results_dir`` (a malformed one is a ``TinyZooError``) and
    write ``LEADERBOARD.md``, ``leaderboard.csv`` and ``plots/*.png`` into ``out_dir``
    (created if missing)."""
    records = read_results(results_dir)
    frame = leaderboard_frame(records)
    out_dir = Path(out_dir)
    plots_dir = out_dir / PLOTS
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if records:
            plots_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise TinyZooError(f"{out_dir}: cannot create the folder "
                           f"({exc.strerror or exc})") from None
    plots = [plot_predictions(record, plots_dir / _plot_name(record))
             for record in records if record["predictions"]["model_id"]]
    markdown = out_dir / MARKDOWN
    atomic_write(markdown, render_markdown(frame, results_dir).encode())
    csv = out_dir / CSV
    atomic_write(csv, frame.to_csv(index=False).encode())
    num_zoos = len({zoo_key(r["zoo"]) + r["zoo"]["manifest_sha256"] for r in records})
    return LeaderboardReport(markdown, csv, plots, len(records), num_zoos)
