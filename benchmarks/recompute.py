"""Recompute, never trust: the board's figures come from a record's per-model predictions.

A result record stores, besides its figures, the test predictions of every seed
(``predictions.predicted_sr``, ``(S, n)``) and the test labels they were scored on
(``predictions.actual_sr``). :func:`check_figures` recomputes from those what the board
shows, and refuses a record whose stored figures disagree with them:

- each run's test metrics (``runs[s].test``: Kendall's tau, Spearman, R², MAE; the
  protocol's :func:`benchmarks.metrics.all_metrics` of seed ``s``'s predictions);
- the summary of the test metrics (mean and sample std over seeds,
  :func:`benchmarks.results.summarize`);
- the 95% interval of the mean test tau (:func:`benchmarks.results.test_tau_ci`, the
  same bootstrap with the same seed).

Figures agree when they are equal to within ``1e-9`` (or both undefined). The check
catches a forged summary, forged per-run figures and predictions replaced without the
figures; labels replaced consistently with everything else are caught by the label
check of the zoo (``actual_sr`` against the verified zoo, where it is present).
Records of scored prediction files (``kind: submission``) are checked the same way.
"""

from __future__ import annotations

import math

import numpy as np

from benchmarks.metrics import all_metrics
from benchmarks.results import summarize, test_clusters, test_tau_ci
from zoo_data.errors import TinyZooError

__all__ = ["TOLERANCE", "check_figures", "check_records", "recomputed_runs"]

#: Largest difference between a stored and a recomputed figure that still agrees.
TOLERANCE = 1e-9

_TEST_METRICS = ("kendall_tau", "spearman", "r2", "mae")


def _same(a, b) -> bool:
    if a is None or b is None:
        return (a is None or (isinstance(a, float) and math.isnan(a))) and \
            (b is None or (isinstance(b, float) and math.isnan(b)))
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= TOLERANCE


def recomputed_runs(record: dict) -> list[dict]:
    """Each run's test metrics recomputed from the record's predictions, in run order."""
    p = record["predictions"]
    actual = np.asarray(p["actual_sr"], np.float64)
    return [all_metrics(np.asarray(row, np.float64), actual) for row in p["predicted_sr"]]


def check_figures(record: dict, where: str) -> None:
    """Refuse ``record`` (read from ``where``) if a figure it stores differs from the one
    its predictions give (module docstring).

    Raises:
      TinyZooError: one line naming ``where``, the field, the stored and the recomputed
        value.
    """
    p = record["predictions"]
    if not p["model_id"]:
        return  # no per-model predictions: nothing is shown from it but its name
    runs = record["runs"]
    if len(p["predicted_sr"]) != len(runs):
        raise TinyZooError(f"{where}: predictions.predicted_sr holds {len(p['predicted_sr'])} "
                           f"seeds, runs holds {len(runs)}: not recomputable, not shown")
    fresh = recomputed_runs(record)

    def refuse(field: str, stored, computed) -> None:
        raise TinyZooError(f"{where}: {field} is {stored!r}, its predictions give "
                           f"{computed!r}: refused (a record's figures must be what its "
                           "predictions give)")

    for k, (run, again) in enumerate(zip(runs, fresh, strict=True)):
        for metric in _TEST_METRICS:
            stored = (run.get("test") or {}).get(metric)
            if not _same(stored, again[metric]):
                refuse(f"runs[{k}].test.{metric}", stored, again[metric])
    rebuilt = [{**run, "test": {**(run.get("test") or {}), **again}}
               for run, again in zip(runs, fresh, strict=True)]
    summary = summarize(rebuilt)
    for key, value in summary.items():
        if not key.startswith("test_"):
            continue
        for part in ("mean", "std", "n"):
            stored = record["summary"].get(key, {}).get(part)
            if not _same(stored, value[part]):
                refuse(f"summary.{key}.{part}", stored, value[part])
    interval = test_tau_ci(p, test_clusters(record["zoo"], p["model_id"]))
    stored = record.get("test_tau_ci")
    for part in ("low", "high"):
        a = None if stored is None else stored.get(part)
        b = None if interval is None else interval[part]
        if not _same(a, b):
            refuse(f"test_tau_ci.{part}", a, b)


def check_records(records: list[dict], results_dir) -> dict[str, str]:
    """The board's checks of ``records`` (read from ``results_dir``): refuse a record
    whose stored figures are not what its predictions give (:func:`check_figures`) or
    whose test labels are not its zoo's
    (:func:`benchmarks.provenance.check_record_labels`); return the records whose labels
    cannot be checked (result file name -> why), which the board shows unranked.

    Raises:
      TinyZooError: one line naming the record's file and the field at fault."""
    from pathlib import Path

    from benchmarks.provenance import check_record_labels
    from benchmarks.results import result_filename

    unverified = {}
    for record in records:
        name = result_filename(record)
        where = str(Path(results_dir) / name)
        check_figures(record, where)
        reason = check_record_labels(record, results_dir, where)
        if reason is not None:
            unverified[name] = reason
    return unverified
