"""Render the leaderboard from a folder of result records (:mod:`benchmarks.results`).

:func:`write_leaderboard` reads every record of ``RESULTS_DIR`` and writes into ``OUT``:

- ``LEADERBOARD.md``: one top-level section per zoo family present (heading: the
  family's title, :func:`benchmarks.board.family_title`, in registry order), holding
  one table per zoo of the family (records grouped by preset and manifest sha256; the heading
  names the preset, the model count and the sha256 prefix). Weight-space
  rows come first (methods that read weights, and submissions), then the section
  "references (do not read weights, or run the network)": methods that read the zoo's
  metadata or run each network on the task. Each section is ranked by mean test
  Kendall's tau, highest first, undefined taus last; columns rank, method, test tau
  (mean ± sample std over seeds) and its 95% interval (bootstrap over test models,
  pooled over seeds: :mod:`benchmarks.significance`), the paired difference to the row
  above with its interval, marked ``≈`` when that interval contains 0 (not significant
  at 5%), for weight-space rows the gain over the best metadata reference with its
  interval, val tau, Spearman, R², MAE, seeds, parameters, the permutation audit (max
  ``|Δ|`` of the predictions under hidden-unit permutations) and wall time. A table
  ends with the figures its family publishes for its preset
  (:meth:`zoo_data.families.base.ZooFamily.published_results`), unranked and marked
  "paper (reference)": on the Tiny RNN Zoo's ``paper`` preset the paper's Table 1
  figures, measured on the paper's own zoo, not on this one; on the Small CNN Zoo's
  ``small-cnn-cifar10`` and ``small-cnn-svhn_cropped`` NFN's Table 2 figures, named
  "<method> (NFN paper, Table 2)". A zoo of a preset whose config fingerprint is not
  the one the current code builds for that preset (an older builder's zoo,
  :meth:`zoo_data.families.base.ZooFamily.current_fingerprint`) gets its table under a
  heading that says so, after the current zoos of its family.
- ``leaderboard.csv``: the same rows (reference rows included, ``kind`` =
  ``"paper (reference)"``, no rank) with full-precision numbers, one table for all zoos.
- ``plots/<preset>-<sha8>__<method>.png``: predicted against actual success rate on the
  test split (first seed) of each record, with its tau in the title.
- ``index.html``: the same tables as one static, self-contained web page with sortable
  columns (:mod:`benchmarks.web_board`), linking the plots by relative path.

Every file is written atomically, and only once every record has been read and every
text rendered: a malformed record changes no output file. An empty or missing results
folder gives a ``LEADERBOARD.md`` (and ``index.html``) saying there are no results yet.
"""

from __future__ import annotations

import dataclasses
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.audit import INVARIANCE_TOLERANCE
from benchmarks.board import (
    PLOTS,
    REFERENCE_KIND,
    REFERENCES_TITLE,
    SECTION_ORDER,
    TABLE_KEYS,
    UNVERIFIED,
    family_title,
    leaderboard_frame,
    made_on,
    plot_name,
    reference_source,
)
from benchmarks.board_files import remove_stale_figures
from benchmarks.curves import plot_learning_curves, scaling_name
from benchmarks.forest import plot_forest
from benchmarks.recompute import check_records
from benchmarks.results import read_results, result_filename, zoo_key
from benchmarks.web_board import HTML, render_html
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError

__all__ = ["LeaderboardReport", "forest_figures", "plot_predictions", "render_markdown",
           "write_leaderboard"]

MARKDOWN = "LEADERBOARD.md"
CSV = "leaderboard.csv"
_DASH = "—"
#: How a row whose test labels the board could not check is marked.
UNVERIFIED_MARK = "unverified labels"


@dataclass(frozen=True)
class LeaderboardReport:
    """What :func:`write_leaderboard` wrote."""

    markdown: Path
    csv: Path
    html: Path
    plots: list[Path]
    num_results: int
    num_zoos: int
    curves: list[Path] = dataclasses.field(default_factory=list)


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


_HEADER = ("rank", "method", "reads", "test τ (mean ± std)", "95% CI",
           "running max of test τ", "Δ vs row above",
           "gain over best metadata ref", "val τ", "Spearman", "R²", "MAE", "seeds",
           "best at budget end", "params", "audit max \\|Δ\\|", "wall time")
_ALIGN = ("---:", ":---", ":---") + ("---:",) * 14


def _best_at_end(row: pd.Series) -> str:
    """``k/n`` seeds best at the budget's end, linked to the table's learning curves."""
    if pd.isna(row["best_at_last_eval"]):
        return _DASH
    text = f"{int(row['best_at_last_eval'])}/{int(row['seeds'])}"
    return f"[{text}]({row['curves']})" if isinstance(row["curves"], str) else text


def _interval(low: float, high: float) -> str:
    return _DASH if pd.isna(low) else f"[{low:.4f}, {high:.4f}]"


def _difference(row: pd.Series, column: str) -> str:
    """``+0.0123 [0.0040, 0.0201]``, with ``≈`` when the interval holds 0."""
    diff = row[f"{column}_diff"]
    if pd.isna(diff):
        return _DASH
    text = f"{diff:+.4f} {_interval(row[f'{column}_low'], row[f'{column}_high'])}"
    return text if bool(row[f"{column}_significant"]) else f"≈ {text}"


def _markdown_row(row: pd.Series, shifted: bool = False) -> list[str]:
    """The cells of ``row``; ``shifted``: its table is a zoo under another split scheme,
    with the in-distribution tau after the interval."""
    cells = _row_cells(row)
    if shifted:
        cells.insert(5, _number(row["in_distribution_tau"]))
    return cells


def _row_cells(row: pd.Series) -> list[str]:
    if row["kind"] == REFERENCE_KIND:
        return [_DASH, f"{_cell(row['display_name'])} — *{REFERENCE_KIND}*", "weights",
                _mean_std(row["test_tau_mean"], row["test_tau_std"])] + [_DASH] * 13
    name = _cell(row["display_name"])
    if row["kind"] != "builtin":
        name += f" ({row['kind']})"
    if row["labels"] == UNVERIFIED:
        name += f" — *{UNVERIFIED_MARK}*"
    if isinstance(row["plot"], str):
        name = f"[{name}]({row['plot']})"
    audit = row["audit_max_abs_diff"]
    return [
        _DASH if pd.isna(row["rank"]) else str(int(row["rank"])),
        name,
        row["reads"],
        _mean_std(row["test_tau_mean"], row["test_tau_std"]),
        _interval(row["test_tau_ci_low"], row["test_tau_ci_high"]),
        _number(row["running_max_test_tau"]),
        _difference(row, "vs_above"),
        _difference(row, "gain_over_metadata"),
        _DASH if pd.isna(row["val_tau_mean"]) else _mean_std(row["val_tau_mean"],
                                                               row["val_tau_std"]),
        _number(row["spearman_mean"]),
        _number(row["r2_mean"]),
        _number(row["mae_mean"]),
        str(int(row["seeds"])) if row["seeds"] else _DASH,
        _best_at_end(row),
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
    groups = list(frame.groupby(TABLE_KEYS, sort=False))
    num_zoos = len({(zoo, sha) for (zoo, sha, _), _ in groups})
    lines += [
        f"Generated by `tinyzoo leaderboard` from {len(measured)} result record"
        f"{'s' if len(measured) != 1 else ''} in `{results_dir}` on {num_zoos} zoo"
        f"{'s' if num_zoos != 1 else ''}; do not edit by hand. Test Kendall's tau-b "
        "is the mean ± sample standard deviation over seeds; the other columns are means "
        "over seeds. The field definitions are in `leaderboard/README.md`.", "",
    ]
    table_head = ["| " + " | ".join(_HEADER) + " |", "| " + " | ".join(_ALIGN) + " |"]
    family, older_heading = None, False
    for (_, sha, protocol), group in groups:
        first = group.iloc[0]
        if first["family"] != family:
            family, older_heading = first["family"], False
            lines += [f"# {family_title(family)}", ""]
        if first["older_zoo"] and not older_heading:
            older_heading = True
            lines += [
                "## Older zoos", "",
                "The zoos below were built with another config than the one the current "
                "code builds for their preset (an older builder or trainer revision): their "
                "results cannot be reproduced with this code and are kept apart.", "",
            ]
        older = " (older zoo: not the current preset's config)" if first["older_zoo"] else ""
        per_model = int(first["rows_per_model"])
        size = (f"{int(first['num_models']):,} models ({int(first['num_test']):,} test)"
                if per_model == 1 else
                f"{int(first['num_models']):,} models x {per_model} checkpoints "
                f"({int(first['num_test']):,} test models, "
                f"{int(first['num_test']) * per_model:,} test rows)")
        scheme = first["split_scheme"] if isinstance(first["split_scheme"], str) else None
        lines += [f"## {first['preset']}: {size}, manifest sha256 `{sha[:8]}`{older}"
                  + (f", split `{scheme}`" if scheme else ""), ""]
        if scheme:
            lines += [f"Split `{scheme}`: {_cell(first['split_rule'])}. "
                      "In-distribution τ: the same method's mean test τ on this zoo's "
                      "default split (id ranges), same protocol.", ""]
        head = table_head if not scheme else [
            "| " + " | ".join(_HEADER[:5] + ("in-distribution τ",) + _HEADER[5:]) + " |",
            "| " + " | ".join(_ALIGN + ("---:",)) + " |"]
        lines += [f"Protocol: {_cell(protocol)}."
                  + (f" [Learning curves]({group['curves'].dropna().iloc[0]})."
                     if group["curves"].notna().any() else "")
                  + (f" [Data scaling]({group['scaling'].dropna().iloc[0]})."
                     if group["scaling"].notna().any() else ""), ""]
        if group["forest"].notna().any():
            lines += [f"![{first['zoo']}: test τ with 95% CI per method]"
                      f"({group['forest'].dropna().iloc[0]})", ""]
        for section in SECTION_ORDER:
            title = REFERENCES_TITLE if section == "references" else None
            rows = group[group["section"] == section]
            if rows.empty:
                continue
            if title is not None:
                lines += [f"**{title}**", ""]
            if section != "paper" or not (group["section"] != "paper").any():
                lines += head
            elif lines[-1] == "":
                lines.pop()  # the paper's rows close the weight-space table
            lines += ["| " + " | ".join(_markdown_row(row, bool(scheme))) + " |"
                      for _, row in rows.iterrows()]
            lines.append("")
        machines = made_on(group)
        if machines is not None:
            lines += [_cell(machines), ""]
        if (group["labels"] == UNVERIFIED).any():
            lines += [f"Rows marked *{UNVERIFIED_MARK}* were scored on test labels this "
                      "board could not check against the zoo's manifest (no label file "
                      "of the zoo beside the records: a zoo built before label files, or "
                      "downloaded); they are not ranked. See docs/LEADERBOARD_RULES.md.",
                      ""]
        source = reference_source(first["family"], first["preset"])
        if source is not None and (group["kind"] == REFERENCE_KIND).any():
            lines += [f"Rows marked *{REFERENCE_KIND}* are {_cell(source)}; they are not "
                      "ranked.", ""]
    lines += [
        "95% CI: percentile bootstrap over the test models, pooled over seeds. "
        "Δ vs row above: this row's mean test tau minus the row above it (same test "
        "models, same resamples), with its 95% interval; ≈ marks a gap whose interval "
        "holds 0 (not significant at 5%). Gain over best metadata ref: a weight-space "
        "row's tau minus the best reference that reads metadata only, with its interval. "
        "Audit: the largest change of any prediction when the hidden units of the test "
        "models are permuted (an invariant predictor gives float rounding only; above "
        f"{INVARIANCE_TOLERANCE:g} it is marked not invariant); "
        "Running max of test τ: the largest test tau over a run's evaluations, mean over "
        "seeds: what the paper's script logs, shown beside the val-selected figure to "
        "say what that reporting choice is worth (never used to rank). "
        "best at budget end: how many of the seeds selected the last evaluation of the "
        "whole budget (still improving when it ran out; a run stopped early never "
        "counts); "
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
    predicted = np.asarray(predictions["predicted_sr"][0], np.float64)
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


def forest_figures(frame: pd.DataFrame) -> dict[str, bytes]:
    """The forest plot of every table of ``frame`` that has one
    (:mod:`benchmarks.forest`): its ``forest`` path -> PNG bytes."""
    figures = {}
    for (zoo, _, protocol), rows in frame.groupby(TABLE_KEYS, sort=False):
        forest = rows["forest"].dropna()
        if not forest.empty:
            figures[forest.iloc[0]] = plot_forest(
                rows, f"{zoo}: test τ with 95% CI\n{protocol}", REFERENCE_KIND)
    return figures


def write_leaderboard(results_dir: str | os.PathLike, out_dir: str | os.PathLike
                      ) -> LeaderboardReport:
    """Check every record of ``results_dir`` (:func:`benchmarks.recompute.check_records`:
    a ``TinyZooError`` before any file is written) and write ``LEADERBOARD.md``,
    ``leaderboard.csv``, ``index.html`` and the figures (stale ones removed:
    :mod:`benchmarks.board_files`) into ``out_dir``, linking a zoo's data-scaling figure."""
    records = read_results(results_dir)
    frame = leaderboard_frame(records, check_records(records, results_dir))
    out_dir = Path(out_dir)
    frame["scaling"] = [scaling_name(zoo) if (out_dir / scaling_name(zoo)).is_file() else None
                        for zoo in frame["zoo"]]
    figures = forest_figures(frame)
    texts = {MARKDOWN: render_markdown(frame, results_dir).encode(),
             CSV: frame.to_csv(index=False).encode(),
             HTML: render_html(frame, results_dir, figures).encode()}
    plots_dir = out_dir / PLOTS
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if records:
            plots_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise TinyZooError(f"{out_dir}: cannot create the folder "
                           f"({exc.strerror or exc})") from None
    plots = [plot_predictions(record, plots_dir / plot_name(record))
             for record in records if record["predictions"]["model_id"]]
    by_file = {result_filename(r): r for r in records}
    curves = []
    for (zoo, _, protocol), rows in frame.groupby(TABLE_KEYS, sort=False):
        figure = rows["curves"].dropna()
        drawn = None if figure.empty else plot_learning_curves(
            [by_file[f] for f in rows["result_file"].dropna()],
            f"{zoo}: learning curves\n{protocol}", out_dir / figure.iloc[0])
        if drawn is not None:
            curves.append(drawn)
    for name, data in figures.items():
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out_dir / name, data)
    remove_stale_figures(out_dir, [*plots, *curves, *(out_dir / name for name in figures)])
    for name, data in texts.items():
        atomic_write(out_dir / name, data)
    num_zoos = len({zoo_key(r["zoo"]) + r["zoo"]["manifest_sha256"] for r in records})
    return LeaderboardReport(out_dir / MARKDOWN, out_dir / CSV, out_dir / HTML, plots,
                             len(records), num_zoos, curves)
