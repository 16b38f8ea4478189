"""The leaderboard as a table: one row per result record (and published figures as
reference rows: what the family of a zoo publishes for its preset,
:meth:`~zoo_data.families.base.ZooFamily.published_results`, such as the paper's
Table 1 on ``paper``-preset zoos and NFN's Table 2 on the Small CNN Zoo presets it
reports on), sorted, ranked and compared. This module owns the board's order, of
families (:func:`family_order`) and of the sections of a zoo's table
(:data:`SECTION_ORDER`), and the families' titles (:func:`family_title`); what differs
between families (the order of their presets, which zoos are older ones, their
published figures) it asks the family of a record's zoo (:func:`record_family`). The
Markdown (:mod:`benchmarks.leaderboard`) and the web page (:mod:`benchmarks.web_board`)
follow it.

:func:`leaderboard_frame` is what :mod:`benchmarks.leaderboard` renders as Markdown, CSV
and plots; its columns are :data:`CSV_COLUMNS`. Rows are grouped by zoo family (registry
order), then by zoo (current zoos first, then zoos of a preset built with another config
than the current one), then by section: weight-space methods (and submissions), then the
references that read only metadata or run the network, then the published figures. The
comparisons between rows are paired bootstraps over the test models
(:func:`benchmarks.significance.compare`). A record of an unregistered family is shown
after the registered ones, under its family's name, with no published figures.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd

from benchmarks.curves import CURVES, curves_name, has_curves, running_max
from benchmarks.forest import FOREST, forest_name
from benchmarks.machine import machine_text
from benchmarks.protocol_config import budget_text
from benchmarks.results import result_filename, test_clusters, zoo_key
from benchmarks.significance import compare
from zoo_data.families.base import PublishedTable, ZooFamily
from zoo_data.families.registry import families, recorded_family

__all__ = ["REFERENCE_KIND", "reference_rows", "reference_source", "family_name",
           "record_family", "family_title", "family_order", "preset_order",
           "REFERENCES_TITLE", "SECTIONS", "SECTION_ORDER", "section_rank", "CSV_COLUMNS",
           "PLOTS", "TABLE_KEYS", "plot_name", "leaderboard_frame", "made_on",
           "compare_records", "VERIFIED", "UNVERIFIED",
           "best_at_last_eval"]

#: ``kind`` of the reference rows in the CSV.
REFERENCE_KIND = "paper (reference)"
#: The heading of the second section of every zoo's table.
REFERENCES_TITLE = "references (do not read weights, or run the network)"

#: Sections of a zoo's table, in order: what the rows read.
SECTIONS = {"weights": "weight-space", "unknown": "weight-space",
            "metadata": "references", "function": "references"}
#: The sections of a zoo's table in board order (the published figures last).
SECTION_ORDER: tuple[str, ...] = ("weight-space", "references", "paper")

CSV_COLUMNS: tuple[str, ...] = (
    "family", "zoo", "preset", "manifest_sha256", "split_scheme", "split_rule", "older_zoo",
    "num_models", "num_test",
    "rows_per_model", "section",
    "rank", "method", "display_name", "kind", "reads", "labels", "test_tau_mean",
    "test_tau_std",
    "test_tau_n", "test_tau_ci_low", "test_tau_ci_high", "in_distribution_tau",
    "vs_above_diff", "vs_above_low",
    "vs_above_high", "vs_above_significant", "gain_over_metadata_diff",
    "gain_over_metadata_low", "gain_over_metadata_high", "gain_over_metadata_significant",
    "best_metadata_method", "val_tau_mean", "val_tau_std", "spearman_mean", "r2_mean",
    "mae_mean", "seeds", "param_count", "audit_max_abs_diff", "audit_num_permutations",
    "wall_time_s", "protocol", "best_at_last_eval", "running_max_test_tau", "machine_id",
    "machine", "code_fingerprint", "plot", "curves", "forest", "scaling", "result_file",
)
PLOTS = "plots"
#: The columns whose values name one table of the board: a zoo, under one protocol
#: (records made under different protocols never share a table).
TABLE_KEYS = ["zoo", "manifest_sha256", "protocol"]


def best_at_last_eval(record: dict) -> int | None:
    """How many of ``record``'s runs selected the last evaluation of the whole budget:
    runs still improving when the budget ran out, never stopped early (``None`` for a
    record without a protocol; a run whose val tau is undefined never counts)."""
    protocol = record["protocol"]
    if protocol is None:
        return None
    return sum(1 for run in record["runs"]
               if run["best_epoch"] is not None and run["best_epoch"] == run["epochs_run"]
               == protocol["epochs"] and (run["val"] or {}).get("kendall_tau") is not None)


def made_on(group: pd.DataFrame) -> str | None:
    """The machines the measured rows of one zoo's ``group`` were computed on, with how
    many records each, e.g. ``"Made on: AMD EPYC (...) [13d24f68e0df] (9 records)."``
    (:func:`benchmarks.machine.machine_text`); ``None`` when there are none."""
    counts = group[group["kind"] != REFERENCE_KIND]["machine"].value_counts(sort=False)
    if counts.empty:
        return None
    return "Made on: " + "; ".join(f"{name} ({count} record{'s' if count != 1 else ''})"
                                   for name, count in counts.items()) + "."


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def plot_name(record: dict) -> str:
    """``"<preset>-<sha8>__<method>.png"``: the file name of a record's plot."""
    return result_filename(record).removesuffix(".json") + ".png"


def family_name(zoo: dict) -> str:
    """The family of a record's ``zoo`` block (none recorded: the Tiny RNN Zoo,
    :func:`zoo_data.families.registry.recorded_family`)."""
    return recorded_family(zoo)


def record_family(name: str) -> ZooFamily | None:
    """The registered family ``name``, or ``None`` if none is registered under it."""
    return families().get(name)


def family_title(name: str) -> str:
    """The board heading of family ``name``: a registered family's title, else ``name``."""
    known = record_family(name)
    return known.title if known is not None else name


def family_order(name: str) -> int:
    """The board position of family ``name``: registry order
    (:func:`zoo_data.families.registry.families`), an unknown family last."""
    names = list(families())
    return names.index(name) if name in names else len(names)


def section_rank(section: str) -> int:
    """The position of ``section`` in :data:`SECTION_ORDER` (an unknown one last)."""
    return SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)


def preset_order(family: str, preset: str) -> int:
    """The board position of a zoo of ``preset`` within ``family``: the family's
    :meth:`~zoo_data.families.base.ZooFamily.preset_rank`, a preset it does not rank
    (or of an unregistered family) after those it does (then by name)."""
    known = record_family(family)
    rank = known.preset_rank(preset) if known is not None else None
    return sys.maxsize if rank is None else rank


def _older_zoo(zoo: dict) -> bool:
    """Whether ``zoo`` is of a preset the current code builds with another config."""
    known = record_family(family_name(zoo))
    current = known.current_fingerprint(zoo["preset"]) if known is not None else None
    return current is not None and current != zoo["config_fingerprint"]


def _published(family: str, preset: str) -> PublishedTable | None:
    known = record_family(family)
    return known.published_results(preset) if known is not None else None


def reference_rows(family: str, preset: str) -> list[tuple[str, str, float, float | None]]:
    """``(method, display name, mean, std)`` of the published reference rows a zoo of
    ``family`` and ``preset`` carries (the family's
    :meth:`~zoo_data.families.base.ZooFamily.published_results`; none for an
    unregistered family): ``method`` is the table's row prefix and the lower-case name
    (spaces as ``-``), the display name the name and the table's label in brackets."""
    published = _published(family, preset)
    if published is None:
        return []
    return [(published.row_prefix + name.lower().replace(" ", "-"),
             name if published.label is None else f"{name} ({published.label})", mean, std)
            for name, (mean, std) in published.rows.items()]


def reference_source(family: str, preset: str) -> str | None:
    """Where the reference rows of a ``family`` zoo of ``preset`` come from, for the note
    under its table (``"Rows marked ... are <this>; they are not ranked."``); ``None``:
    none."""
    published = _published(family, preset)
    return None if published is None else published.source


#: ``labels`` of a record whose test labels the board checked
#: (:mod:`benchmarks.provenance`), and of one it could not check (never ranked).
VERIFIED, UNVERIFIED = "verified", "unverified"


def leaderboard_frame(records: list[dict],
                      unverified: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per record, plus the published reference rows of each zoo
    (:func:`reference_rows`), with :data:`CSV_COLUMNS`; sorted by family
    (:func:`family_order`), then zoo (current zoos before older ones, then the family's
    preset order, :func:`preset_order`, then name, then more models first), then
    section (:data:`SECTION_ORDER`), then ranked rows by mean test tau
    (descending, undefined last, ties by method), then the reference rows. ``rank`` counts
    within a section from 1 for the best; ties share a rank; undefined tau has none, nor
    a record named in ``unverified`` (result file name -> why its test labels could not
    be checked; its ``labels`` is :data:`UNVERIFIED`). The
    comparisons (``vs_above_*``, ``gain_over_metadata_*``) are those of
    :func:`benchmarks.significance.compare` on the records' test predictions."""
    rows = []
    for record in records:
        zoo, summary = record["zoo"], record["summary"]
        audit = record["audit"] or {}
        ci = record["test_tau_ci"] or {}
        rows.append({
            "family": family_name(zoo), "zoo": zoo_key(zoo), "preset": zoo["preset"],
            "manifest_sha256": zoo["manifest_sha256"], "older_zoo": _older_zoo(zoo),
            "split_scheme": zoo.get("split_scheme"), "split_rule": zoo.get("split_rule"),
            "num_models": zoo["num_models"],
            "num_test": zoo["splits"]["test"],
            "rows_per_model": zoo.get("rows_per_model", 1),
            "section": SECTIONS[record["reads"]],
            "method": record["method"],
            "display_name": record["display_name"], "kind": record["kind"],
            "reads": record["reads"],
            "labels": UNVERIFIED if result_filename(record) in (unverified or {})
            else VERIFIED,
            "test_tau_ci_low": _nan(ci.get("low")), "test_tau_ci_high": _nan(ci.get("high")),
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
            "machine_id": (record["environment"].get("machine") or {}).get("id"),
            "machine": machine_text(record["environment"].get("machine")),
            "code_fingerprint": record["code_fingerprint"],
            "protocol": None if record["protocol"] is None else budget_text(
                record["protocol"]),
            "best_at_last_eval": best_at_last_eval(record),
            "running_max_test_tau": _nan(running_max(record)),
            "plot": f"{PLOTS}/{plot_name(record)}" if record["predictions"]["model_id"]
            else None,
            "result_file": result_filename(record),
        })
    by_zoo: dict[tuple, list[dict]] = {}
    for row in rows:
        by_zoo.setdefault((row["zoo"], row["manifest_sha256"]), []).append(row)
    for zoo_rows in by_zoo.values():
        # the table of the protocol most of the zoo's records were made under takes the
        # scored prediction files (no protocol) and the published figures
        counts = pd.Series([r["protocol"] for r in zoo_rows
                            if r["protocol"] is not None]).value_counts(sort=False)
        main = (counts.index[int(np.argmax(counts.to_numpy()))] if len(counts)
                else budget_text(None))
        for row in zoo_rows:
            if row["protocol"] is None:
                row["protocol"] = main
        first = zoo_rows[0]
        for method, name, mean, std in reference_rows(first["family"], first["preset"]):
            rows.append({
                **{key: first[key] for key in ("family", "zoo", "preset", "manifest_sha256",
                                               "split_scheme", "split_rule", "older_zoo",
                                               "num_models",
                                               "num_test", "rows_per_model")},
                "protocol": main,
                "section": "paper", "reads": "weights",
                "method": method, "display_name": name, "kind": REFERENCE_KIND,
                "test_tau_mean": mean, "test_tau_std": _nan(std),
            })
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    if frame.empty:
        return frame
    frame["_family"] = frame["family"].map(family_order)
    frame["_preset_order"] = [preset_order(family, preset) for family, preset
                              in zip(frame["family"], frame["preset"], strict=True)]
    frame["_section"] = frame["section"].map(section_rank)
    frame["_reference"] = frame["kind"] == REFERENCE_KIND
    # a zoo's protocols: the one most of its records were made under first
    frame["_protocol_size"] = frame.groupby(["zoo", "manifest_sha256", "protocol"])[
        "method"].transform("size")
    frame = frame.sort_values(
        ["_family", "family", "older_zoo", "_preset_order", "preset", "num_models",
         "manifest_sha256", "zoo", "_protocol_size", "protocol", "_section", "test_tau_mean",
         "method"],
        ascending=[True, True, True, True, True, False, True, True, False, True, True, False,
                   True],
        na_position="last",
        kind="mergesort",
    )
    ranked = frame["test_tau_mean"].where(~frame["_reference"]
                                          & (frame["labels"] != UNVERIFIED))
    frame["rank"] = (ranked.groupby([frame["zoo"] + frame["manifest_sha256"],
                                     frame["protocol"], frame["section"]])
                     .rank(method="min", ascending=False).astype("Int64"))
    _add_comparisons(frame, {result_filename(r): r for r in records})
    _add_in_distribution(frame)
    for column in ("num_models", "num_test", "rows_per_model", "test_tau_n", "seeds",
                   "param_count", "best_at_last_eval",
                   "audit_num_permutations"):
        frame[column] = frame[column].astype("Int64")
    for column in ("audit_max_abs_diff", "wall_time_s", "running_max_test_tau"):
        frame[column] = frame[column].astype("float64")
    frame = frame.drop(columns=["_family", "_preset_order", "_section", "_reference",
                                "_protocol_size"])
    frame = frame.reset_index(drop=True)
    by_file = {result_filename(r): r for r in records}
    frame["curves"] = frame["curves"].astype("object")
    frame["forest"] = frame["forest"].astype("object")
    for (zoo, _, _), rows in frame.groupby(TABLE_KEYS, sort=False):
        tables = list(dict.fromkeys(frame.loc[frame["zoo"] == zoo, "protocol"]))
        index = tables.index(rows["protocol"].iloc[0])
        if any(has_curves(by_file[f]) for f in rows["result_file"].dropna()):
            frame.loc[rows.index, "curves"] = f"{CURVES}/{curves_name(zoo, index)}"
        if rows["test_tau_mean"].notna().any():
            frame.loc[rows.index, "forest"] = f"{FOREST}/{forest_name(zoo, index)}"
    return frame


def _add_in_distribution(frame: pd.DataFrame) -> None:
    """``in_distribution_tau`` of a row on a zoo under another split scheme: the mean
    test tau of the same method on the same zoo under the default split, same protocol
    (NaN where there is none)."""
    frame["in_distribution_tau"] = np.nan
    shifted = frame["split_scheme"].notna() & (frame["kind"] != REFERENCE_KIND)
    if not shifted.any():
        return
    default = frame[frame["split_scheme"].isna() & (frame["kind"] != REFERENCE_KIND)]
    lookup = {(r.manifest_sha256, r.protocol, r.method): r.test_tau_mean
              for r in default.itertuples()}
    for index in frame.index[shifted]:
        row = frame.loc[index]
        frame.loc[index, "in_distribution_tau"] = lookup.get(
            (row["manifest_sha256"], row["protocol"], row["method"]), np.nan)


def record_test_predictions(record: dict) -> tuple[np.ndarray, np.ndarray, tuple] | None:
    """``(predicted (S, n), actual (n,), model ids)`` of a record, ids sorted."""
    p = record["predictions"]
    if not p["model_id"]:
        return None
    order = np.argsort(p["model_id"], kind="stable")
    return (np.asarray(p["predicted_sr"], np.float64)[:, order],
            np.asarray(p["actual_sr"], np.float64)[order],
            tuple(np.asarray(p["model_id"])[order].tolist()))


def compare_records(a: dict, b: dict) -> tuple[float, float, float, bool] | None:
    """Paired comparison of records ``a`` and ``b`` (A minus B) on their common test set;
    ``None`` if they were scored on other test models or a tau is undefined."""
    pa, pb = record_test_predictions(a), record_test_predictions(b)
    if pa is None or pb is None or pa[2] != pb[2] or not np.array_equal(pa[1], pb[1]):
        return None
    result = compare(pa[0], pb[0], pa[1], clusters=test_clusters(a["zoo"], pa[2]))
    if result is None:
        return None
    return result.difference, result.low, result.high, result.significant


def _add_comparisons(frame: pd.DataFrame, by_file: dict[str, dict]) -> None:
    """Fill the ``vs_above_*`` (this row's tau minus the tau of the row above it in its
    section) and ``gain_over_metadata_*`` (a weight-space row's tau minus the best
    metadata reference's) columns of ``frame``, sorted as :func:`leaderboard_frame`
    leaves it, in place."""
    for column in ("vs_above", "gain_over_metadata"):
        for part in ("diff", "low", "high"):
            frame[f"{column}_{part}"] = np.nan
        frame[f"{column}_significant"] = pd.Series(pd.NA, index=frame.index, dtype="boolean")
    frame["best_metadata_method"] = None
    for _, zoo_rows in frame.groupby(TABLE_KEYS, sort=False):
        measured = zoo_rows[zoo_rows["kind"] != REFERENCE_KIND]
        metadata = measured[(measured["reads"] == "metadata")
                            & measured["test_tau_mean"].notna()]
        best = metadata.iloc[0] if len(metadata) else None  # sorted: highest tau first
        for _, section in measured.groupby("section", sort=False):
            above = None
            for index, row in section.iterrows():
                record = by_file[row["result_file"]]
                if above is not None:
                    _put(frame, index, "vs_above", compare_records(record, by_file[above]))
                if not pd.isna(row["test_tau_mean"]):
                    above = row["result_file"]
                if best is not None and row["section"] == "weight-space":
                    frame.loc[index, "best_metadata_method"] = best["method"]
                    _put(frame, index, "gain_over_metadata",
                         compare_records(record, by_file[best["result_file"]]))


def _put(frame: pd.DataFrame, index, column: str, result) -> None:
    if result is None:
        return
    diff, low, high, significant = result
    frame.loc[index, [f"{column}_diff", f"{column}_low", f"{column}_high"]] = [diff, low, high]
    frame.loc[index, f"{column}_significant"] = significant
