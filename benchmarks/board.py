"""The leaderboard as a table: one row per result record (and published figures as
reference rows: the paper's Table 1 on ``paper``-preset zoos, NFN's Table 2 on the
Small CNN Zoo presets it reports on), sorted, ranked and compared.

:func:`leaderboard_frame` is what :mod:`benchmarks.leaderboard` renders as Markdown, CSV
and plots; its columns are :data:`CSV_COLUMNS`. Rows are grouped by zoo family
(:data:`zoo_data.families.registry.FAMILIES` order), then by zoo (current zoos first, then zoos of
a preset built with another config than the current one), then by section:
weight-space methods (and submissions), then the references that read only metadata or
run the network, then the published figures. The comparisons between rows are
paired bootstraps over the test models (:func:`benchmarks.significance.compare`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from benchmarks.results import result_filename, test_clusters, zoo_key
from benchmarks.significance import compare
from zoo_data.cnn.config import SPLIT_METHODS
from zoo_data.cnn.layout import DATASETS
from zoo_data.families.registry import FAMILIES, RNN_FAMILY
from zoo_data.rnn.presets import PRESETS

__all__ = ["PAPER_TABLE1", "NFN_TABLE2", "NFN_LABEL", "REFERENCE_KIND", "reference_rows",
           "reference_source", "family_name", "REFERENCES_TITLE", "SECTIONS", "CSV_COLUMNS",
           "PLOTS", "plot_name", "leaderboard_frame"]

#: Paper Table 1 (Tiny RNN Zoo, test Kendall's tau): method -> (mean, std or None).
PAPER_TABLE1: dict[str, tuple[float, float | None]] = {
    "STATNN": (0.8839, 0.0007),
    "UNF": (0.8968, 0.0006),
    "Deep Sets": (0.8306, None),
}
#: The preset whose tables carry the paper's reference rows.
PAPER_PRESET = "paper"
#: NFN's Table 2 (Zhou et al. 2023, "Permutation Equivariant Neural Functionals":
#: Small CNN Zoo, test Kendall's tau, NFN's split): preset -> method -> (mean, std).
#: On the board each is named ``"<method> (NFN paper, Table 2)"``.
NFN_TABLE2: dict[str, dict[str, tuple[float, float]]] = {
    "small-cnn-cifar10": {"NFN-HNP": (0.934, 0.001), "NFN-NP": (0.922, 0.001),
                          "STATNN": (0.915, 0.002)},
    "small-cnn-svhn_cropped": {"NFN-HNP": (0.931, 0.005), "NFN-NP": (0.856, 0.001),
                               "STATNN": (0.843, 0.000)},
}
#: What the display name of an NFN reference row adds to the method's name.
NFN_LABEL = "NFN paper, Table 2"
#: ``kind`` of the reference rows in the CSV.
REFERENCE_KIND = "paper (reference)"
#: The heading of the second section of every zoo's table.
REFERENCES_TITLE = "references (do not read weights, or run the network)"

#: Sections of a zoo's table, in order: what the rows read.
SECTIONS = {"weights": "weight-space", "unknown": "weight-space",
            "metadata": "references", "function": "references"}

CSV_COLUMNS: tuple[str, ...] = (
    "family", "zoo", "preset", "manifest_sha256", "older_zoo", "num_models", "num_test",
    "rows_per_model", "section",
    "rank", "method", "display_name", "kind", "reads", "test_tau_mean", "test_tau_std",
    "test_tau_n", "test_tau_ci_low", "test_tau_ci_high", "vs_above_diff", "vs_above_low",
    "vs_above_high", "vs_above_significant", "gain_over_metadata_diff",
    "gain_over_metadata_low", "gain_over_metadata_high", "gain_over_metadata_significant",
    "best_metadata_method", "val_tau_mean", "val_tau_std", "spearman_mean", "r2_mean",
    "mae_mean", "seeds", "param_count", "audit_max_abs_diff", "audit_num_permutations",
    "wall_time_s", "plot", "result_file",
)
PLOTS = "plots"


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def plot_name(record: dict) -> str:
    """``"<preset>-<sha8>__<method>.png"``: the file name of a record's plot."""
    return result_filename(record).removesuffix(".json") + ".png"


def family_name(zoo: dict) -> str:
    """The family of a record's ``zoo`` block (none recorded: the Tiny RNN Zoo)."""
    return zoo.get("family", RNN_FAMILY)


def _older_zoo(zoo: dict) -> bool:
    """Whether ``zoo`` is of a preset the current code builds with another config."""
    preset = PRESETS.get(zoo["preset"]) if family_name(zoo) == RNN_FAMILY else None
    return preset is not None and preset.fingerprint() != zoo["config_fingerprint"]


def reference_rows(preset: str) -> list[tuple[str, str, float, float | None]]:
    """``(method, display name, mean, std)`` of the published reference rows a zoo of
    ``preset`` carries: the paper's Table 1 (``paper``), NFN's Table 2 (the Small CNN
    Zoo presets of :data:`NFN_TABLE2`), none for any other preset."""
    def slug(name: str) -> str:
        return name.lower().replace(" ", "-")

    if preset == PAPER_PRESET:
        return [("paper-" + slug(name), name, mean, std)
                for name, (mean, std) in PAPER_TABLE1.items()]
    return [("nfn-paper-" + slug(name), f"{name} ({NFN_LABEL})", mean, std)
            for name, (mean, std) in NFN_TABLE2.get(preset, {}).items()]


def reference_source(preset: str) -> str | None:
    """Where the reference rows of a ``preset`` zoo come from, for the note under its
    table (``"Rows marked ... are <this>; they are not ranked."``); ``None``: none."""
    if preset == PAPER_PRESET:
        return ("Table 1 of Zhou et al. (2024), measured on the paper's own (unreleased) "
                "Tiny RNN Zoo, not on this zoo")
    if preset in NFN_TABLE2:
        return ("Table 2 of Zhou et al. (2023), \"Permutation Equivariant Neural "
                "Functionals\" (NFN): the test figures NFN published for the Small CNN "
                f"Zoo's {preset.removeprefix('small-cnn-')} networks with NFN's split, "
                "copied from the paper, not measured by this code")
    return None


#: Board order of presets: the Tiny RNN Zoo's (:data:`zoo_data.rnn.presets.PRESETS`), then
#: the Small CNN Zoo's by dataset, NFN's split before ours. Others sort after, by name.
_PRESET_ORDER = {name: i for i, name in enumerate(
    [*PRESETS, *(f"small-cnn-{dataset}" + ("" if split == "nfn" else f"-{split}")
                 for dataset in DATASETS for split in SPLIT_METHODS)])}


def leaderboard_frame(records: list[dict]) -> pd.DataFrame:
    """One row per record, plus the published reference rows of each zoo
    (:func:`reference_rows`), with :data:`CSV_COLUMNS`; sorted by family (order of
    :data:`zoo_data.families.registry.FAMILIES`, an unknown one last), then zoo (current zoos
    before older ones, then preset order of :data:`zoo_data.rnn.presets.PRESETS` and of the
    Small CNN Zoo's datasets, then name, then more models first), then
    section (weight-space, then references), then ranked rows by mean test tau
    (descending, undefined last, ties by method), then the reference rows. ``rank`` counts
    within a section from 1 for the best; ties share a rank; undefined tau has none. The
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
            "num_models": zoo["num_models"],
            "num_test": zoo["splits"]["test"],
            "rows_per_model": zoo.get("rows_per_model", 1),
            "section": SECTIONS[record["reads"]],
            "method": record["method"],
            "display_name": record["display_name"], "kind": record["kind"],
            "reads": record["reads"],
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
            "plot": f"{PLOTS}/{plot_name(record)}" if record["predictions"]["model_id"]
            else None,
            "result_file": result_filename(record),
        })
    zoos = {(r["zoo"], r["manifest_sha256"]): r for r in rows}
    for first in zoos.values():
        for method, name, mean, std in reference_rows(first["preset"]):
            rows.append({
                **{key: first[key] for key in ("family", "zoo", "preset", "manifest_sha256",
                                               "older_zoo", "num_models", "num_test",
                                               "rows_per_model")},
                "section": "paper", "reads": "weights",
                "method": method, "display_name": name, "kind": REFERENCE_KIND,
                "test_tau_mean": mean, "test_tau_std": _nan(std),
            })
    frame = pd.DataFrame(rows, columns=list(CSV_COLUMNS))
    if frame.empty:
        return frame
    families = {name: i for i, name in enumerate(FAMILIES)}
    sections = {"weight-space": 0, "references": 1, "paper": 2}
    frame["_family"] = frame["family"].map(lambda f: families.get(f, len(families)))
    frame["_preset_order"] = frame["preset"].map(
        lambda p: _PRESET_ORDER.get(p, len(_PRESET_ORDER)))
    frame["_section"] = frame["section"].map(sections)
    frame["_reference"] = frame["kind"] == REFERENCE_KIND
    frame = frame.sort_values(
        ["_family", "family", "older_zoo", "_preset_order", "preset", "num_models",
         "manifest_sha256", "_section", "test_tau_mean", "method"],
        ascending=[True, True, True, True, True, False, True, True, False, True],
        na_position="last",
        kind="mergesort",
    )
    ranked = frame["test_tau_mean"].where(~frame["_reference"])
    frame["rank"] = (ranked.groupby([frame["zoo"] + frame["manifest_sha256"],
                                     frame["section"]])
                     .rank(method="min", ascending=False).astype("Int64"))
    _add_comparisons(frame, {result_filename(r): r for r in records})
    for column in ("num_models", "num_test", "rows_per_model", "test_tau_n", "seeds",
                   "param_count",
                   "audit_num_permutations"):
        frame[column] = frame[column].astype("Int64")
    for column in ("audit_max_abs_diff", "wall_time_s"):
        frame[column] = frame[column].astype("float64")
    frame = frame.drop(columns=["_family", "_preset_order", "_section", "_reference"])
    return frame.reset_index(drop=True)


def record_test_predictions(record: dict) -> tuple[np.ndarray, np.ndarray, tuple] | None:
    """``(predicted (S, n), actual (n,), model ids)`` of a record, ids sorted."""
    p = record["predictions"]
    if not p["model_id"]:
        return None
    order = np.argsort(p["model_id"], kind="stable")
    return (np.asarray(p["predicted_sr"], np.float64)[:, order],
            np.asarray(p["actual_sr"], np.float64)[order],
            tuple(np.asarray(p["model_id"])[order].tolist()))


def _compare(a: dict, b: dict) -> tuple[float, float, float, bool] | None:
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
    for _, zoo_rows in frame.groupby(["zoo", "manifest_sha256"], sort=False):
        measured = zoo_rows[zoo_rows["kind"] != REFERENCE_KIND]
        metadata = measured[(measured["reads"] == "metadata")
                            & measured["test_tau_mean"].notna()]
        best = metadata.iloc[0] if len(metadata) else None  # sorted: highest tau first
        for _, section in measured.groupby("section", sort=False):
            above = None
            for index, row in section.iterrows():
                record = by_file[row["result_file"]]
                if above is not None:
                    _put(frame, index, "vs_above", _compare(record, by_file[above]))
                if not pd.isna(row["test_tau_mean"]):
                    above = row["result_file"]
                if best is not None and row["section"] == "weight-space":
                    frame.loc[index, "best_metadata_method"] = best["method"]
                    _put(frame, index, "gain_over_metadata",
                         _compare(record, by_file[best["result_file"]]))


def _put(frame: pd.DataFrame, index, column: str, result) -> None:
    if result is None:
        return
    diff, low, high, significant = result
    frame.loc[index, [f"{column}_diff", f"{column}_low", f"{column}_high"]] = [diff, low, high]
    frame.loc[index, f"{column}_significant"] = significant
