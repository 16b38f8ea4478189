"""``tinyzoo reproduce table1``: the paper's Table 1 (Kendall's tau of generalisation
predictors on the Tiny RNN Zoo) on a zoo of any preset.

Builds the preset's zoo if its folder does not hold a complete one (resumable), runs
:func:`benchmarks.bench.run_benchmark` for every built-in predictor and every seed
(resumable per seed), and returns one row per method with our mean ± std beside the
paper's figure. A method whose committed record (same zoo family, preset and config;
:mod:`benchmarks.reproduction`) was computed by the same code under the same protocol is
re-checked, not re-made: its re-run goes to a scratch folder outside version control
and its row carries the verdict of :func:`benchmarks.reproduction.compare`, so a fresh
clone's run leaves the committed files as they are. Other methods (or all, with
``force``) are re-made into the results folder, and then the leaderboard is rendered.
The paper's figures are for the paper preset (10,000 hidden-128 models); on smaller
presets they are context, not targets.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.formatting import fmt_tau_pm, record_tau_reason, text_table
from benchmarks.protocol_config import ProtocolConfig, default_protocol
from zoo_builder.request import BuildRequest
from zoo_data.archive.layout import MANIFEST
from zoo_data.archive.manifest import read_manifest
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import family_of
from zoo_data.rnn.family import PAPER_PRESET
from zoo_data.rnn.presets import ZooConfig, get_preset

__all__ = ["DEFAULT_REPRODUCTION_DIR", "paper_table1", "reproduce_table1", "format_table1"]

#: Where re-checks of committed records go (git-ignored): ``<this>/<preset>/``.
DEFAULT_REPRODUCTION_DIR = "data/reproductions"


def paper_table1() -> dict[str, tuple[float, float | None]]:
    """Table 1 of the paper by built-in method name (test Kendall's tau, mean and std
    over seeds; Deep Sets: the camera-ready table's single figure): what the Tiny RNN
    Zoo publishes for its ``paper`` preset
    (:meth:`zoo_data.families.base.ZooFamily.published_results`)."""
    from predictors.registry import BUILTINS

    paper = get_preset(PAPER_PRESET)
    published = family_of(paper).published_results(paper.preset)
    figures = published.rows if published is not None else {}
    return {name: figures[cls.title()] for name, cls in BUILTINS.items()
            if cls.title() in figures}


def _ensure_zoo(config: ZooConfig, zoo_dir: Path, workers: int, progress: bool,
                log) -> None:
    preset = config.preset
    if (zoo_dir / MANIFEST).is_file():
        manifest = read_manifest(zoo_dir)
        if manifest.get("complete") is True and manifest.get("splits"):
            if manifest["config_fingerprint"] != config.fingerprint():
                raise TinyZooError(f"{zoo_dir}: holds a zoo of another config than preset "
                                   f"{preset}")
            return
    from zoo_builder.build import run_build

    log(f"building the {preset} zoo into {zoo_dir} (resumable) ...")
    run_build(BuildRequest(zoo_dir, config, workers=workers), progress=progress)


def reproduce_table1(
    preset: str,
    zoo_dir: str | os.PathLike | None = None,
    seeds: int = 5,
    methods: list[str] | None = None,
    config: ProtocolConfig | None = None,
    results_dir: str | os.PathLike = "leaderboard/results",
    leaderboard_dir: str | os.PathLike = "leaderboard",
    workers: int = 2,
    progress: bool = True,
    log=print,
    force: bool = False,
    reproduction_dir: str | os.PathLike = DEFAULT_REPRODUCTION_DIR,
    split_scheme: str = "id-ranges",
) -> list[dict]:
    """Run Table 1 (module docstring); returns rows ``{"method", "display_name",
    "mean", "std", "n", "undefined_reason", "paper_mean", "paper_std", "param_count",
    "audit", "result_file", "path", "reproduction"}`` (``mean`` ``None`` when tau is
    undefined, with ``undefined_reason`` saying why;
    :func:`benchmarks.formatting.record_tau_reason`). ``path`` is ``"remake"`` or
    ``"check"``; a checked row's ``reproduction`` is
    :func:`benchmarks.reproduction.compare`'s row (else ``None``), its ``result_file``
    the re-run's record under ``reproduction_dir/<preset>/results``, and the report is
    written to ``reproduction_dir/<preset>/report.json`` and ``report.md``
    (:func:`benchmarks.reproduction.write_report`). ``force``: re-make every method.
    ``split_scheme``: the zoo's split scheme (:mod:`zoo_data.archive.split_schemes`).

    ``progress``: the build's display, then one per method over seeds x epochs with a
    line per finished seed (:func:`benchmarks.bench.run_benchmark`), on stderr; ``log``
    receives the other messages (the build's start)."""
    zoo_config = get_preset(preset)
    if seeds < 1:
        raise TinyZooError(f"seeds {seeds}: need at least 1")
    if workers < 1:
        raise TinyZooError(f"workers {workers}: need at least 1")
    zoo_path = Path(zoo_dir) if zoo_dir is not None else Path("data/zoos") / preset
    # jax and the predictors are imported once the arguments are good
    from benchmarks.bench import code_fingerprint, run_benchmark
    from benchmarks.leaderboard import write_leaderboard
    from benchmarks.machine import machine_fingerprint, machine_text
    from benchmarks.reproduction import choose_path, committed_record, compare, write_report
    from benchmarks.results import zoo_info
    from predictors.registry import BUILTINS
    from zoo_data.zoo import open_local_zoo

    methods = list(methods or BUILTINS)
    unknown = [m for m in methods if m not in BUILTINS]
    if unknown:
        raise TinyZooError(f"methods: unknown method {unknown[0]!r}; choose from "
                           f"{', '.join(BUILTINS)}")
    _ensure_zoo(zoo_config, zoo_path, workers, progress, log)
    paper_figures = paper_table1()
    zoo = zoo_info(open_local_zoo(zoo_path, split_scheme=split_scheme))
    config = config or default_protocol(preset)
    protocol = config.to_dict()
    scratch = Path(reproduction_dir) / preset
    rows, checks = [], []
    for method in methods:
        committed = committed_record(results_dir, zoo, method)
        path_kind = choose_path(committed, code_fingerprint(method), protocol, force)
        target = results_dir if path_kind == "remake" else scratch / "results"
        record, path = run_benchmark(method, zoo_path, seeds, config, target,
                                     progress=progress, log=None, split_scheme=split_scheme)
        check = compare(committed, record) if path_kind == "check" else None
        if check is not None:
            checks.append(check)
        tau = record["summary"]["test_kendall_tau"]
        paper = paper_figures.get(method, (None, None))
        rows.append({"method": method, "display_name": record["display_name"],
                     "mean": tau["mean"], "std": tau["std"], "n": tau["n"],
                     "undefined_reason": record_tau_reason(record),
                     "paper_mean": paper[0], "paper_std": paper[1],
                     "param_count": record["param_count"], "audit": record["audit"],
                     "result_file": str(path), "path": path_kind, "reproduction": check})
    if any(row["path"] == "remake" for row in rows):
        write_leaderboard(results_dir, leaderboard_dir)
    if checks:
        here = machine_fingerprint()
        write_report(checks, scratch, {
            "preset": preset, "zoo_manifest_sha256": zoo["manifest_sha256"],
            "seeds": seeds, "machine": machine_text(here), "machine_id": here["id"],
            "results_dir": str(results_dir)})
    return rows


def format_table1(rows: list[dict], preset: str) -> str:
    """Rows as an aligned text table: method, our test tau (mean ± std over the seeds,
    4 decimals, or ``undefined (<reason>)``), seeds, the paper's figure, parameters."""
    head = f"Table 1, test Kendall's tau ({preset} zoo; paper: paper-preset zoo)"
    body = [[r["display_name"], fmt_tau_pm(r["mean"], r["std"], r.get("undefined_reason")),
             r["n"],
             fmt_tau_pm(r["paper_mean"], r["paper_std"]) if r["paper_mean"] is not None
             else "—",
             f"{r['param_count']:,}" if r["param_count"] is not None else "—"]
            for r in rows]
    table = text_table(["method", "ours", "seeds", "paper", "params"], body,
                       right=(2, 4))
    return head + "\n" + table
