"""Data-scaling curves: test tau against the number of training models.

For each method, each training-set size ``n`` and each seed ``s``, the protocol
(:func:`benchmarks.protocol.run_protocol`, the zoo's default budget) runs on the zoo
whose train split holds ``n`` of its training models (``Zoo.with_train_models(n,
seed=s)``: the first ``n`` of seed ``s``'s random order, all their checkpoints), with
the same validation and test splits. A point is the mean test tau over seeds with the
95% bootstrap interval of the board (:func:`benchmarks.results.test_tau_ci`: test models
resampled, pooled over seeds). The size ``n = all training models`` is the board
itself: its 5-seed record is read, not re-run, when the record was made by the same
code and protocol.

**Projection** (:func:`projection`): the usual learning-curve form, a power law in
the gap to a perfect ranking, ``1 - tau = a n^(-b)``, fitted by least squares to the
per-size means as a straight line of ``log(1 - tau)`` against ``log(n)``, evaluated at
the paper's 8,000 training models. It never passes 1. It is an extrapolation of the
measured trend, clearly not a measurement: a trend on 100 to 800 models may bend.

Runs are saved one by one in the JSON file as they finish (atomically), keyed by
method, size and seed with the zoo, protocol and code fingerprint they were made
under, so an interrupted run resumes and a changed predictor is re-run.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.fingerprint import code_fingerprint
from benchmarks.protocol import run_protocol
from benchmarks.protocol_config import ProtocolConfig, default_protocol
from benchmarks.results import test_clusters, to_jsonable, zoo_info
from zoo_data.archive.splits import split_ranges
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo

__all__ = ["PAPER_TRAIN_MODELS", "run_scaling", "summarise", "projection", "plot_scaling"]

#: Training models of the paper's zoo (8,000 of 10,000), where the projection is read.
PAPER_TRAIN_MODELS = 8000


def _load(path: Path) -> dict:
    if not path.is_file():
        return {"runs": []}
    try:
        data = json.loads(path.read_text())
    except ValueError as e:
        raise TinyZooError(f"{path}: not a data-scaling file ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise TinyZooError(f"{path}: not a data-scaling file (no 'runs' list)")
    return data


def _key(run: dict) -> tuple:
    return run["method"], run["train_models"], run["seed"]


def run_scaling(zoo: Zoo, methods: Sequence[str], sizes: Sequence[int], seeds: int,
                out: str | os.PathLike, config: ProtocolConfig | None = None,
                log: Callable[[str], None] | None = print) -> dict:
    """Run every ``(method, size, seed)`` not yet in ``out`` (or saved under other code,
    protocol or zoo), saving each as it finishes; return the file's content.

    Each run stores its test predictions (in test-split order), test tau, best and
    last pass, and wall time."""
    from predictors.registry import load_predictor

    out = Path(out)
    config = config or default_protocol(zoo.config.preset)
    lo, hi = split_ranges(zoo.config)["train"]
    for n in sizes:
        if not 1 <= n <= hi - lo:
            raise TinyZooError(f"train models {n}: the zoo has {hi - lo}")
    data = _load(out)
    context = {"zoo": zoo_info(zoo), "protocol": config.to_dict()}
    fingerprints = {m: code_fingerprint(m) for m in methods}
    keep = [r for r in data["runs"]
            if r.get("context") == to_jsonable(context)
            and r.get("code_fingerprint") == fingerprints.get(r.get("method"))]
    done = {_key(r) for r in keep}
    data = {"context": to_jsonable(context), "test_model_ids": zoo.with_split("test")
            .model_ids.tolist(), "runs": keep}
    for n in sizes:
        for method in methods:
            for seed in range(seeds):
                if (method, n, seed) in done:
                    continue
                predictor, _ = load_predictor(method)
                t0 = time.monotonic()
                result = run_protocol(predictor, zoo.with_train_models(n, seed=seed), seed,
                                      config)
                run = {"method": method, "train_models": n, "seed": seed,
                       "context": to_jsonable(context),
                       "code_fingerprint": fingerprints[method],
                       "test_tau": result.test["kendall_tau"],
                       "best_pass": result.best_epoch * result.passes_per_epoch,
                       "passes_run": result.epochs_run * result.passes_per_epoch,
                       "wall_time_s": round(time.monotonic() - t0, 1),
                       "test_predicted": np.asarray(result.test_predicted).tolist()}
                data["runs"].append(to_jsonable(run))
                out.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(out, json.dumps(data, indent=1).encode())
                if log:
                    log(f"{method}, {n} training models, seed {seed}: test tau "
                        f"{run['test_tau']:.4f}, best pass {run['best_pass']}, "
                        f"{run['wall_time_s']:.0f} s")
    return data


def summarise(data: dict, test_labels: np.ndarray, zoo_record: dict,
              board: dict[str, dict] | None = None) -> list[dict]:
    """One row per ``(method, train models)``: ``mean``, ``std``, ``n`` seeds and the
    95% interval ``low``/``high`` (``None`` when tau is undefined). ``board``: method ->
    the board's record of the full training split, added as the largest size."""
    from benchmarks.results import test_tau_ci

    ids = data["test_model_ids"]
    groups: dict[tuple[str, int], list[dict]] = {}
    for run in data["runs"]:
        groups.setdefault((run["method"], run["train_models"]), []).append(run)
    rows = []
    clusters = test_clusters(zoo_record, ids)
    for (method, n), runs in sorted(groups.items()):
        runs = sorted(runs, key=lambda r: r["seed"])
        predicted = [r["test_predicted"] for r in runs]
        rows.append(_row(method, n, [r["test_tau"] for r in runs],
                         test_tau_ci({"model_id": ids, "predicted_sr": predicted,
                                      "actual_sr": test_labels.tolist()}, clusters)))
    for method, record in (board or {}).items():
        if record["predictions"]["model_id"] != ids:
            raise TinyZooError(f"{method}: the board's record predicts other test models")
        taus = [r["test"]["kendall_tau"] for r in record["runs"]]
        rows.append(_row(method, int(record["zoo"]["splits"]["train"]), taus,
                         record.get("test_tau_ci"), board=True))
    return sorted(rows, key=lambda r: (r["method"], r["train_models"]))


def _row(method: str, n: int, taus: list, ci: dict | None, board: bool = False) -> dict:
    values = np.asarray([t if t is not None else np.nan for t in taus], np.float64)
    defined = values[np.isfinite(values)]
    return {"method": method, "train_models": n, "seeds": len(values),
            "mean": float(defined.mean()) if len(defined) else None,
            "std": float(defined.std(ddof=1)) if len(defined) > 1 else None,
            "low": ci["low"] if ci else None, "high": ci["high"] if ci else None,
            "from_board": board}


def projection(rows: list[dict], at: int = PAPER_TRAIN_MODELS) -> dict[str, dict]:
    """Per method with at least 3 sizes whose mean tau lies in ``(0, 1)``: the
    least-squares line ``log(1 - tau) = log(a) - b log(n)`` through the per-size means,
    its exponent ``b`` (``"exponent"``: the gap to 1 shrinks as ``n^-b``) and the tau it
    gives at ``at`` models, **a projection, not a measurement**."""
    by_method: dict[str, list[tuple[int, float]]] = {}
    for row in rows:
        if row["mean"] is not None and 0 < row["mean"] < 1:
            by_method.setdefault(row["method"], []).append((row["train_models"], row["mean"]))
    out = {}
    for method, points in by_method.items():
        if len({n for n, _ in points}) < 3:
            continue
        x = np.log([n for n, _ in points])
        y = np.log(1 - np.asarray([t for _, t in points]))
        slope, intercept = np.polyfit(x, y, 1)
        out[method] = {"exponent": float(-slope),
                       "projected_tau": float(1 - math.exp(intercept + slope * math.log(at))),
                       "at_train_models": at, "sizes": sorted(n for n, _ in points)}
    return out


def plot_scaling(rows: list[dict], projections: dict[str, dict], titles: dict[str, str],
                 title: str, out: str | os.PathLike) -> Path:
    """Test tau (mean, 95% interval as error bars) against training models on a log
    axis, one line per method; the projection to the paper's size dotted and marked
    "projection"."""
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.0, 4.8), dpi=120)
    try:
        methods = sorted({r["method"] for r in rows})
        for k, method in enumerate(methods):
            mine = [r for r in rows if r["method"] == method and r["mean"] is not None]
            if not mine:
                continue
            color = f"C{k % 10}"
            n = np.asarray([r["train_models"] for r in mine])
            mean = np.asarray([r["mean"] for r in mine])
            low = np.asarray([r["low"] if r["low"] is not None else m
                              for r, m in zip(mine, mean, strict=True)])
            high = np.asarray([r["high"] if r["high"] is not None else m
                               for r, m in zip(mine, mean, strict=True)])
            ax.errorbar(n, mean, yerr=[mean - low, high - mean], fmt="o-", color=color,
                        capsize=3, linewidth=1.3, markersize=4,
                        label=titles.get(method, method))
            if method in projections:
                p = projections[method]
                ax.plot([n[-1], p["at_train_models"]], [mean[-1], p["projected_tau"]], ":",
                        color=color, linewidth=1.2)
                ax.plot([p["at_train_models"]], [p["projected_tau"]], "x", color=color)
        ax.set_ylim(top=1.0)  # a perfect ranking
        ax.axvline(PAPER_TRAIN_MODELS, color="0.5", linewidth=0.8, linestyle="--")
        ax.text(PAPER_TRAIN_MODELS, ax.get_ylim()[0], " paper's 8,000:\n projection, "
                "not measured", fontsize=7, va="bottom", ha="left", color="0.3")
        ax.set_xscale("log")
        ax.set_xlabel("training models (log scale)")
        ax.set_ylabel("test Kendall's τ (mean over seeds, 95% CI)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, buffer.getvalue())
    return out
