"""The leaderboard as one static web page: ``index.html`` beside ``LEADERBOARD.md``.

:func:`render_html` turns :func:`benchmarks.board.leaderboard_frame`'s frame into a
self-contained page: CSS and JavaScript inline, nothing fetched from the network, the
prediction plots linked by their relative path (``plots/<name>.png``, beside the page).
It has one table per zoo, grouped and ordered as in ``LEADERBOARD.md`` (under a
heading per zoo family; current zoos first, then older ones; weight-space rows, then
the references, then the published figures), with the columns rank, method, section,
reads, test tau (mean ± std), the 95% interval's low and high ends, the paired
comparisons the frame holds (``vs_above``, ``gain_over_metadata``), val tau, seeds,
parameters, the permutation audit and wall time. Clicking a column header sorts that
table by the column (numbers as numbers, undefined values last in either direction; a
second click reverses the order).

The output depends on the frame alone (no dates, no absolute paths unless
``results_dir`` is one), so rendering the same records twice gives the same bytes, and
every piece of text from the records is escaped.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from benchmarks.audit import INVARIANCE_TOLERANCE
from benchmarks.board import (
    REFERENCE_KIND,
    REFERENCES_TITLE,
    TABLE_KEYS,
    UNVERIFIED,
    family_title,
    made_on,
    reference_source,
    section_rank,
)
from benchmarks.web_assets import SCRIPT as _SCRIPT
from benchmarks.web_assets import STYLE as _STYLE

__all__ = ["HTML", "render_html"]

HTML = "index.html"
TITLE = "Tiny RNN Zoo leaderboard"
_DASH = "—"
_SECTION_LABELS = {"references": "reference"}  # the others: the section's own name


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


def _key(value) -> str:
    """A ``data-sort`` number: full precision, empty for a missing value."""
    return "" if _missing(value) else repr(float(value))


def _fixed(value, digits: int = 4) -> str:
    return _DASH if _missing(value) else f"{float(value):.{digits}f}".replace("-", "−")


def _mean_std(mean, std) -> str:
    if _missing(mean):
        return "undefined"
    if _missing(std):
        return _fixed(mean)
    return f'{_fixed(mean)} <span class="pm">± {_fixed(std)}</span>'


def _signed(value) -> str:
    return f"{float(value):+.4f}".replace("-", "−")


def _comparison(row: pd.Series, column: str) -> tuple[str, str]:
    """``+0.0123 [0.0040, 0.0201]``; muted and marked ``≈`` when the interval holds 0."""
    diff = row.get(f"{column}_diff")
    if _missing(diff):
        return _DASH, ""
    interval = (f'<span class="ci">[{_fixed(row[f"{column}_low"])}, '
                f'{_fixed(row[f"{column}_high"])}]</span>')
    significant = row.get(f"{column}_significant")
    if not _missing(significant) and not bool(significant):
        return (f'<span class="ns" title="the 95% interval holds 0: not significant at 5%">'
                f"≈ {_signed(diff)} {interval}</span>"), _key(diff)
    return f"{_signed(diff)} {interval}", _key(diff)


def _wall_time(seconds) -> str:
    if _missing(seconds):
        return _DASH
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _count(value) -> tuple[str, str]:
    return (_DASH, "") if _missing(value) or not value else (f"{int(value):,}", str(int(value)))


def _zero_or_count(value) -> tuple[str, str]:
    return (_DASH, "") if _missing(value) else (str(int(value)), str(int(value)))


def _best_at_end(row: pd.Series) -> tuple[str, str]:
    """The count of seeds best at the budget's end, linked to the table's learning curves
    where the row's runs have them."""
    text, key = _zero_or_count(row["best_at_last_eval"])
    curves = row.get("curves")
    if isinstance(curves, str) and text != _DASH:
        text = f'<a href="{_esc(curves)}" title="learning curves">{text}</a>'
    return text, key


def _method(row: pd.Series) -> tuple[str, str]:
    name = _esc(row["display_name"])
    plot = row.get("plot")
    if isinstance(plot, str):
        name = f'<a href="{_esc(plot)}" title="predicted against actual: {_esc(plot)}">{name}</a>'
    badge = ""
    if row["kind"] == REFERENCE_KIND:
        badge = f' <span class="badge paper">{_esc(REFERENCE_KIND)}</span>'
    elif row["kind"] != "builtin":
        badge = f' <span class="badge">{_esc(row["kind"])}</span>'
    if row.get("labels") == UNVERIFIED:
        badge += (' <span class="badge" title="test labels not checked against the '
                  'zoo\'s manifest: not ranked">unverified labels</span>')
    return f"{name}{badge}", str(row["display_name"]).lower()


def _audit(value) -> tuple[str, str]:
    if _missing(value):
        return _DASH, ""
    text = f"{value:.1e}"
    if value > INVARIANCE_TOLERANCE:
        text += ' <span class="badge warn">not invariant</span>'
    return text, _key(value)


@dataclass(frozen=True)
class _Column:
    label: str
    kind: str  # "number" or "text": how the column sorts
    cell: Callable[[pd.Series], tuple[str, str]]  # row -> (inner HTML, sort key)
    title: str
    css: str = "num"


def _columns(frame: pd.DataFrame) -> list[_Column]:
    def rank(row):
        return (_DASH, "") if _missing(row["rank"]) else (str(int(row["rank"])),
                                                        str(int(row["rank"])))

    def section(row):
        label = _SECTION_LABELS.get(row["section"], row["section"])
        title = REFERENCES_TITLE if row["section"] == "references" else label
        return (f'<span class="tag {_esc(row["section"])}" title="{_esc(title)}">'
                f"{_esc(label)}</span>", str(section_rank(row["section"])))

    columns = [
        _Column("rank", "number", rank, "rank within the section, by mean test tau"),
        _Column("method", "text", _method, "the method; its name links to the plot of "
                "predicted against actual test success rate", "text"),
        _Column("section", "number", section, "weight-space methods read the weights; "
                "references read metadata only or run the network", "text"),
        _Column("reads", "text", lambda r: (_esc(r["reads"]), str(r["reads"])),
                "what the method reads", "text"),
        _Column("test τ", "number",
                lambda r: (f'<span class="main">{_mean_std(r["test_tau_mean"], r["test_tau_std"])}'
                           "</span>",
                           _key(r["test_tau_mean"])),
                "test Kendall's tau-b: mean ± sample std over seeds"),
        _Column("CI low", "number", lambda r: (_fixed(r["test_tau_ci_low"]),
                                               _key(r["test_tau_ci_low"])),
                "95% interval of test tau, low end (bootstrap over test models)"),
        _Column("CI high", "number", lambda r: (_fixed(r["test_tau_ci_high"]),
                                                _key(r["test_tau_ci_high"])),
                "95% interval of test tau, high end (bootstrap over test models)"),
    ]
    if frame["split_scheme"].notna().any():
        columns.append(_Column(
            "in-distribution τ", "number", lambda r: (_fixed(r["in_distribution_tau"]),
                                                      _key(r["in_distribution_tau"])),
            "on a zoo under another split scheme: the same method's mean test tau on the "
            "zoo's default split (id ranges), same protocol"))
    if "vs_above_diff" in frame.columns:
        columns.append(_Column(
            "Δ vs row above", "number", lambda r: _comparison(r, "vs_above"),
            "this row's test tau minus the row above it in its section (paired, same "
            "test models), with its 95% interval; ≈: the interval holds 0"))
    if "gain_over_metadata_diff" in frame.columns:
        columns.append(_Column(
            "gain over metadata", "number", lambda r: _comparison(r, "gain_over_metadata"),
            "a weight-space row's test tau minus the best reference that reads metadata "
            "only, with its 95% interval; ≈: the interval holds 0"))
    columns += [
        _Column("val τ", "number",
                lambda r: (_DASH if _missing(r["val_tau_mean"]) else
                           _mean_std(r["val_tau_mean"], r["val_tau_std"]),
                           _key(r["val_tau_mean"])),
                "validation Kendall's tau-b: mean ± sample std over seeds"),
        _Column("test τ max", "number", lambda r: (_fixed(r["running_max_test_tau"]),
                                                   _key(r["running_max_test_tau"])),
                "running max of test tau over a run's evaluations, mean over seeds (what "
                "the paper's script logs; never used to rank)"),
        _Column("seeds", "number", lambda r: _count(r["seeds"]), "number of seeds"),
        _Column("best at end", "number", _best_at_end,
                "seeds that selected the last evaluation of the whole budget (still "
                "improving when it ran out)"),
        _Column("params", "number", lambda r: _count(r["param_count"]),
                "trainable parameters"),
        _Column("audit", "number", lambda r: _audit(r["audit_max_abs_diff"]),
                "largest change of any prediction when the test models' hidden units "
                f"are permuted; above {INVARIANCE_TOLERANCE:g}: not invariant"),
        _Column("wall time", "number",
                lambda r: (_wall_time(r["wall_time_s"]), _key(r["wall_time_s"])),
                "wall time of the whole record (all seeds)"),
    ]
    return columns


def _zoo_heading(first: pd.Series, sha: str) -> str:
    per_model = int(first["rows_per_model"])
    models, test = int(first["num_models"]), int(first["num_test"])
    size = (f"{models:,} models · {test:,} test" if per_model == 1 else
            f"{models:,} models × {per_model} checkpoints · {test:,} test models, "
            f"{test * per_model:,} test rows")
    older = (' <span class="badge warn">older zoo: not the current preset\'s config</span>'
             if bool(first["older_zoo"]) else "")
    scheme = first.get("split_scheme")
    split = ""
    if isinstance(scheme, str):
        split = (f' · split <code title="{_esc(first.get("split_rule") or scheme)}">'
                 f"{_esc(scheme)}</code>")
    return (f'<h2>{_esc(first["preset"])}{older}<span class="meta">{_esc(size)} · '
            f"manifest sha256 <code>{_esc(sha[:8])}</code>{split}</span></h2>")


def _table(group: pd.DataFrame, columns: list[_Column], zoo: str) -> list[str]:
    head = "".join(
        f'<th scope="col" class="{c.css}" data-type="{c.kind}" aria-sort="none" '
        f'title="{_esc(c.title)} (click to sort)">{_esc(c.label)}</th>' for c in columns)
    lines = [f'<div class="scroll"><table class="board" data-zoo="{_esc(zoo)}">',
             f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    previous = None
    for order, (_, row) in enumerate(group.iterrows()):
        classes = [f"section-{row['section']}"]
        if previous is not None and row["section"] != previous:
            classes.append("section-start")
        previous = row["section"]
        cells = []
        for column in columns:
            inner, key = column.cell(row)
            cells.append(f'<td class="{column.css}" data-sort="{_esc(key)}">{inner}</td>')
        lines.append(f'<tr class="{" ".join(classes)}" data-order="{order}" '
                     f'data-method="{_esc(row["method"])}" title="{_esc(row["method"])}">'
                     f'{"".join(cells)}</tr>')
    lines += ["</tbody></table></div>"]
    return lines


def render_html(frame: pd.DataFrame, results_dir: str | os.PathLike,
                figures: dict[str, bytes] | None = None) -> str:
    """``index.html``'s text for :func:`benchmarks.board.leaderboard_frame`'s ``frame``
    of the records in ``results_dir`` (named on the page); ``figures``: the forest plots
    by their ``forest`` path, embedded as data URIs (the page fetches nothing)."""
    figures = figures or {}
    body = [f"<h1>{_esc(TITLE)}</h1>"]
    source = f"<code>{_esc(os.fspath(results_dir))}</code>"
    if frame.empty:
        body.append(
            f'<p class="lede">No results yet: {source} holds no result records. Score a '
            "predictor with <code>tinyzoo bench</code> or a CSV of test-split predictions "
            "with <code>tinyzoo submit</code>, then run <code>tinyzoo leaderboard</code> "
            "again.</p>")
    else:
        measured = int((frame["kind"] != REFERENCE_KIND).sum())
        tables = list(frame.groupby(TABLE_KEYS, sort=False))
        groups = list(frame.groupby(["zoo", "manifest_sha256"], sort=False))
        body.append(
            f'<p class="lede">Generated by <code>tinyzoo leaderboard</code> from {measured} '
            f"result record{'s' if measured != 1 else ''} in {source} on {len(groups)} "
            f"zoo{'s' if len(groups) != 1 else ''}; do not edit by hand. Click a column "
            "header to sort its table, again to reverse. Test and val τ are Kendall's "
            "tau-b, mean ± sample std over seeds. The same tables: "
            '<a href="LEADERBOARD.md">LEADERBOARD.md</a>; every column at full precision: '
            '<a href="leaderboard.csv">leaderboard.csv</a>.</p>')
        titles = [family_title(g["family"].iloc[0]) for _, g in groups]
        body.append("<nav>" + "".join(  # each family's title before its first zoo
            (f'<span class="family">{_esc(title)}</span>' if title not in titles[:i] else "")
            + f'<a href="#zoo-{_esc(zoo)}">{_esc(zoo)}</a>'
            for i, (((zoo, _), _), title) in enumerate(zip(groups, titles, strict=True)))
            + "</nav>")
        columns = _columns(frame)
        family, older_shown = None, False
        seen: set[str] = set()
        for (zoo, sha, protocol), group in tables:
            first = group.iloc[0]
            if first["family"] != family:
                family, older_shown = first["family"], False
                body.append(f'<h2 class="family" id="family-{_esc(family)}">'
                            f"{_esc(family_title(family))}</h2>")
            if bool(first["older_zoo"]) and not older_shown:
                older_shown = True
                body.append(
                    '<div class="older"><h2>Older zoos</h2><p class="note">The zoos below '
                    "were built with another config than the one the current code builds "
                    "for their preset (an older builder or trainer revision): their results "
                    "cannot be reproduced with this code and are kept apart.</p></div>")
            anchor = f"zoo-{zoo}" if zoo not in seen else f"zoo-{zoo}-{len(seen)}"
            seen.add(zoo)
            body += [f'<section class="zoo" id="{_esc(anchor)}">', _zoo_heading(first, sha),
                     f'<p class="note">Protocol: {_esc(protocol)}.'
                     + (f' <a href="{_esc(group["curves"].dropna().iloc[0])}">Learning '
                        "curves</a>." if group["curves"].notna().any() else "")
                     + (f' <a href="{_esc(group["scaling"].dropna().iloc[0])}">Data '
                        "scaling</a>." if group["scaling"].notna().any() else "") + "</p>"]
            forest = group["forest"].dropna()
            if not forest.empty and forest.iloc[0] in figures:
                data = base64.b64encode(figures[forest.iloc[0]]).decode()
                body.append(f'<img class="forest" alt="{_esc(zoo)}: test tau with 95% CI '
                            f'per method" src="data:image/png;base64,{data}">')
            body += _table(group, columns, zoo)
            machines = made_on(group)
            if machines is not None:
                body.append(f'<p class="note">{html.escape(machines, quote=False)}</p>')
            source = reference_source(first["family"], first["preset"])
            if source is not None and (group["kind"] == REFERENCE_KIND).any():
                body.append(f'<p class="note">Rows marked <em>{_esc(REFERENCE_KIND)}</em> '
                            f"are {html.escape(source, quote=False)}; they are not ranked.</p>")
            body.append("</section>")
        body.append(
            "<footer><p>Sections: <em>weight-space</em> rows read the weights (or are "
            "submissions); <em>reference</em> rows do not read weights: they read the "
            "zoo's metadata only, or run each network on the task. 95% CI: "
            "percentile bootstrap over the test models, pooled over seeds. Δ vs row above "
            "and gain over metadata are paired differences of test tau with their 95% "
            "interval; ≈ marks one whose interval holds 0 (not significant at 5%). Audit: "
            "the largest change of any prediction when the hidden units of the test models "
            "are permuted. Method names link to the plot of predicted against actual test "
            "success rate; hover a column header for its definition.</p></footer>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(TITLE)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        *body,
        "</main>",
        f"<script>{_SCRIPT}</script>",
        "</body>",
        "</html>",
        "",
    ])
