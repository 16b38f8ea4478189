"""``tinyzoo bench``: run the protocol for several seeds, audit, write the result file.

Seeds ``0 .. N-1`` each run :func:`benchmarks.protocol.run_protocol`; the first seed's
trained predictor is audited (:mod:`benchmarks.audit`) and its test predictions are
kept for the plots. Each finished seed is saved at once to
``<results_dir>/.partial/<zoo>__<method>/seed-<k>.json``, so an interrupted benchmark
run again with the same command resumes at the first unfinished seed (a partial
result of other protocol settings or another zoo is not reused). The final record
(:mod:`benchmarks.results`) goes to ``<results_dir>/<zoo>__<method>.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.protocol_config import ProtocolConfig
from benchmarks.results import build_record, to_jsonable, write_result, zoo_info, zoo_key
from zoo_data.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo

__all__ = ["run_benchmark"]


def _partial_dir(results_dir: Path, zoo: dict, method: str) -> Path:
    return results_dir / ".partial" / f"{zoo_key(zoo)}__{method}"


def _load_partial(path: Path, expected: dict) -> dict | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("context") != expected:
        return None
    return saved


def run_benchmark(
    method: str,
    zoo_dir: str | os.PathLike,
    seeds: int = 5,
    config: ProtocolConfig | None = None,
    results_dir: str | os.PathLike = "leaderboard/results",
    progress: bool = True,
    audit: bool = True,
    log=print,
) -> tuple[dict, Path]:
    """Benchmark ``method`` (built-in name or ``file.py:Class``) on the zoo in
    ``zoo_dir``; returns ``(record, path of the result file)``."""
    if seeds < 1:
        raise TinyZooError(f"seeds {seeds}: need at least 1")
    config = config or ProtocolConfig()
    opened = open_local_zoo(zoo_dir)
    # jax and the predictors are imported once the arguments and the zoo are good, so
    # that a bad command line is refused at once
    from benchmarks.audit import audit_predictor
    from benchmarks.protocol import run_protocol
    from predictors.registry import load_predictor

    predictor, kind = load_predictor(method)
    zoo = zoo_info(opened)
    results_dir = Path(results_dir)
    partial = _partial_dir(results_dir, zoo, predictor.name)
    context = {"zoo": zoo, "protocol": config.to_dict(), "method": method,
               "reads": predictor.reads}

    runs, by_seed, predictions, audit_result = [], [], None, None
    for seed in range(seeds):
        path = partial / f"seed-{seed}.json"
        saved = _load_partial(path, to_jsonable(context))
        if saved is not None:
            log(f"{predictor.name} seed {seed}: done before (test tau "
                f"{saved['run']['test']['kendall_tau']})")
        else:
            result = run_protocol(predictor, opened, seed, config, progress)
            saved = {"context": context, "run": result.to_record(),
                     "test_predicted": result.test_predicted}
            if seed == 0:
                saved["predictions"] = {"model_id": result.test_model_ids,
                                        "actual_sr": result.test_actual}
                if audit and predictor.reads != "metadata":  # no weights: nothing to permute
                    saved["audit"] = audit_predictor(result.trained, opened.with_split("test"))
            partial.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(to_jsonable(saved), indent=2).encode())
            saved = json.loads(path.read_text())
            log(f"{predictor.name} seed {seed}: test tau {saved['run']['test']['kendall_tau']}, "
                f"best epoch {result.best_epoch}, {result.wall_time_s:.0f} s")
        runs.append(saved["run"])
        by_seed.append(saved["test_predicted"])
        if seed == 0:
            predictions = saved["predictions"]
            audit_result = saved.get("audit")

    record = build_record(
        method=predictor.name, display_name=predictor.title(), kind=kind,
        reads=predictor.reads, zoo=zoo, runs=runs,
        predictions={**predictions, "predicted_sr": by_seed}, protocol=config.to_dict(),
        param_count=runs[0]["param_count"],
        wall_time_s=round(sum(r["wall_time_s"] for r in runs), 1), audit=audit_result)
    return record, write_result(record, results_dir)
