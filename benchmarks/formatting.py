"""How scores read in text: Kendall's tau to 4 decimals, an undefined tau with its
reason, aligned tables. Used by the per-seed progress lines, the tables and the CLI.

An undefined correlation (:mod:`benchmarks.metrics`: ``NaN``, stored as ``null`` in
result records) comes from a constant input: constant predictions (e.g. the
``constant`` baseline) or constant test labels rank nothing. The reason is not stored;
:func:`undefined_reason` finds it again from the predictions and labels a record holds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["TAU_DECIMALS", "fmt_tau", "fmt_tau_pm", "undefined_reason", "record_tau_reason",
           "run_tau_text", "text_table"]

#: Decimals of every tau the CLI prints.
TAU_DECIMALS = 4


def _defined(value: float | None) -> bool:
    return value is not None and math.isfinite(float(value))


def fmt_tau(value: float | None, reason: str | None = None) -> str:
    """``0.6841``, or ``undefined (<reason>)`` for ``None``/``NaN``."""
    if _defined(value):
        return f"{float(value):.{TAU_DECIMALS}f}"
    return f"undefined ({reason})" if reason else "undefined"


def fmt_tau_pm(mean: float | None, std: float | None, reason: str | None = None) -> str:
    """``mean ± std`` (``std`` left out when ``None``: one seed) or ``undefined (..)``."""
    text = fmt_tau(mean, reason)
    if _defined(mean) and _defined(std):
        text += f" ± {float(std):.{TAU_DECIMALS}f}"
    return text


def undefined_reason(predicted, actual) -> str:
    """Why Kendall's tau of ``predicted`` against ``actual`` is undefined."""
    pred = np.asarray(predicted, np.float64)
    labels = np.asarray(actual, np.float64)
    if pred.size < 2:
        return f"{pred.size} test model(s): need at least 2"
    flat_pred = bool(np.all(pred == pred[0]))
    flat_labels = labels.size > 0 and bool(np.all(labels == labels[0]))
    if flat_pred and flat_labels:
        return "constant predictions and constant test labels rank nothing"
    if flat_pred:
        return "constant predictions rank nothing"
    if flat_labels:
        return "constant test labels rank nothing"
    return "a non-finite prediction"


def run_tau_text(tau: float | None, predicted, actual) -> str:
    """One seed's test tau as text, with the reason when it is undefined."""
    if _defined(tau):
        return fmt_tau(tau)
    return fmt_tau(None, undefined_reason(predicted, actual))


def record_tau_reason(record: dict) -> str | None:
    """Why a result record's mean test tau (``summary.test_kendall_tau.mean``) is
    undefined, or ``None`` when it is defined: the seeds whose tau is undefined and why
    (from the record's predictions)."""
    if _defined(record["summary"]["test_kendall_tau"]["mean"]):
        return None
    runs = record.get("runs", [])
    scored = sum(1 for run in runs if run.get("test"))
    if not scored:
        return "no scored runs"
    predictions = record.get("predictions") or {}
    per_run = predictions.get("predicted_sr") or []
    actual = predictions.get("actual_sr") or []
    reasons: dict[str, list] = {}
    for i, run in enumerate(runs):
        if not run.get("test") or _defined(run["test"].get("kendall_tau")):
            continue
        reason = (undefined_reason(per_run[i], actual) if i < len(per_run)
                  else "a constant input ranks nothing")
        reasons.setdefault(reason, []).append(run.get("seed", i))
    if len(reasons) == 1 and sum(map(len, reasons.values())) == scored:
        return next(iter(reasons))
    return "; ".join(f"seed{'s' if len(seeds) > 1 else ''} "
                     f"{', '.join(map(str, seeds))}: {reason}"
                     for reason, seeds in reasons.items())


def text_table(header: Sequence[str], rows: Sequence[Sequence[object]],
               right: Sequence[int] = ()) -> str:
    """``header`` and ``rows`` as columns padded to their widest cell, two spaces
    apart; the columns at indices ``right`` are right-aligned (numbers)."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
