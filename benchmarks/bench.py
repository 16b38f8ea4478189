"""``tinyzoo bench``: run the protocol for several seeds, audit, write the result file.

Seeds ``0 .. N-1`` each run :func:`benchmarks.protocol.run_protocol`; the first seed's
trained predictor is audited (:mod:`benchmarks.audit`) and its test predictions are
kept for the plots. Each finished seed is saved at once to
``<results_dir>/.partial/<zoo>__<method>/seed-<k>.json`` (not git-ignored: a long run
is committed seed by seed), so an interrupted benchmark run again with the same
command, in this checkout or a clone, resumes at the first unfinished seed (a partial
result of other protocol settings, another zoo or other predictor code is not reused:
:func:`code_fingerprint`). The final record
(:mod:`benchmarks.results`) goes to ``<results_dir>/<zoo>__<method>.json``.

Built-ins run in this process; a code submission runs in a sealed child process and is
scored here (:mod:`benchmarks.sealed`).

Progress (:func:`zoo_data.common.progress.progress_bar`, on stderr): one display per method
over seeds x epochs, described by the seed being trained, and one line per finished
seed, e.g. ``statnn seed 2 (3/5): test tau 0.6841, best epoch 7, 31 s``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.fingerprint import PROTOCOL_FILES, check_unchanged_since_start, code_fingerprint
from benchmarks.formatting import fmt_tau, run_tau_text
from benchmarks.protocol_config import ProtocolConfig, budget_text, default_protocol
from benchmarks.provenance import publish_labels
from benchmarks.results import build_record, to_jsonable, write_result, zoo_info, zoo_key
from zoo_data.common.atomic import atomic_write
from zoo_data.common.progress import Progress, progress_bar
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo

__all__ = ["PROTOCOL_FILES", "code_fingerprint", "run_benchmark"]


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
    split_scheme: str = "id-ranges",
    time_limit_s: float | None = None,
) -> tuple[dict, Path]:
    """Benchmark ``method`` (built-in name or ``file.py:Class``) on the zoo in
    ``zoo_dir``; returns ``(record, path of the result file)``.

    A built-in runs in this process. A code submission (``file.py:Class``) runs in a
    sealed child process that never sees the test labels, and this process scores it
    (:mod:`benchmarks.sealed`); its file is never imported here.

    ``progress``: the display and per-seed lines of the module docstring, on stderr.
    Without it, the per-seed lines go to ``log`` (``None``: nowhere). ``split_scheme``:
    the zoo's split scheme (:mod:`zoo_data.archive.split_schemes`), named in the record
    and its file name when it is not the default. ``time_limit_s``: a code submission's
    wall-clock limit per seed (default
    :data:`benchmarks.sealed.DEFAULT_TIME_LIMIT_S`); past it, its process is stopped and
    the run refused in one line."""
    if seeds < 1:
        raise TinyZooError(f"seeds {seeds}: need at least 1")
    opened = open_local_zoo(zoo_dir, split_scheme=split_scheme)
    config = config or default_protocol(opened.config.preset)
    # jax and the predictors are imported once the arguments and the zoo are good, so
    # that a bad command line is refused at once
    from predictors.registry import BUILTINS, load_predictor

    if method in BUILTINS:
        predictor, kind = load_predictor(method)
        about = {"name": predictor.name, "reads": predictor.reads,
                 "title": predictor.title(), "kind": kind}
        return _benchmark(method, about, opened, seeds, config, results_dir, progress, log,
                          lambda todo, bar: _in_process(predictor, opened, todo, config,
                                                        bar, audit))
    from benchmarks.sealed import DEFAULT_TIME_LIMIT_S, SealedRun

    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else time_limit_s
    if not limit > 0:
        raise TinyZooError(f"time limit {limit:g} s: need a positive number of seconds")
    with SealedRun(method, opened, config, results_dir, progress, audit,
                   time_limit_s=limit) as sealed:
        _check_user_name(sealed.predictor["name"], Path(results_dir), opened, BUILTINS)
        return _benchmark(method, sealed.predictor, opened, seeds, config, results_dir,
                          progress, log,
                          lambda todo, bar: _scored(sealed.run(todo, bar), opened))


def _check_user_name(name: str, results_dir: Path, opened, builtins) -> None:
    """Refuse a code submission named as a built-in, or as a result of another kind
    (a scored submission) on this zoo: its record would replace theirs.

    Raises:
      TinyZooError: one line naming the name and, for a result, its file."""
    if name in builtins:
        raise TinyZooError(f"name {name}: the name of a built-in method; give the "
                           "predictor class another 'name'")
    target = results_dir / f"{zoo_key(zoo_info(opened))}__{name}.json"
    if target.is_file():
        try:
            kind = json.loads(target.read_text()).get("kind")
        except ValueError:
            kind = None
        if kind is not None and kind != "user":
            raise TinyZooError(f"name {name}: {target} holds a {kind} result of that name "
                               "on this zoo; give the predictor class another 'name'")


def _in_process(predictor, opened, todo: list[int], config, bar: Progress, audit):
    """``(RunResult, audit or None)`` per seed of ``todo``, run in this process (each
    epoch advances ``bar``)."""
    from benchmarks.audit import audit_predictor
    from benchmarks.protocol import run_protocol

    for seed in todo:
        result = run_protocol(predictor, opened, seed, config, bar)
        audited = None
        if seed == 0 and audit:  # None for a predictor that reads no weights
            audited = audit_predictor(result.trained, opened.with_split("test"))
        yield result, audited


def _scored(runs, opened):
    """The sealed process's unscored runs, scored here on the test labels."""
    from benchmarks.protocol import RunResult, score_run

    test = opened.with_split("test")
    for run, audited in runs:
        yield score_run(RunResult(**run, trained=None), test), audited


def _benchmark(method, about, opened, seeds, config, results_dir, progress, log,
               compute):
    """Resume from the saved seeds, ``compute(todo, bar)`` the others, write the
    record."""
    zoo = zoo_info(opened)
    results_dir = Path(results_dir)
    lock = _record_lock(results_dir, zoo, about["name"], context_text=(
        f"{method}, {seeds} seeds, {budget_text(config.to_dict())}"))
    with lock:
        return _benchmark_locked(method, about, opened, seeds, config, results_dir,
                                 progress, log, compute, zoo)


def _record_lock(results_dir: Path, zoo: dict, name: str, context_text: str):
    """An exclusive lock on the record ``<zoo>__<name>`` of ``results_dir`` (a lock file
    in the system's temporary folder, named after the folder): one writer at a time. A second
    ``bench`` of the same method and zoo into the same folder is refused with one line
    saying who holds it (a run with other settings would silently replace its
    record)."""
    import filelock

    # outside the results folder: a refused run writes nothing there
    where = hashlib.sha256(str(results_dir.resolve()).encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "tinyzoo-locks" / where
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{zoo_key(zoo)}__{name}.lock"
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        holder = (folder / f"{path.name}.who").read_text().strip() \
            if (folder / f"{path.name}.who").is_file() else "another process"
        raise TinyZooError(f"{results_dir / (zoo_key(zoo) + '__' + name + '.json')}: being "
                           f"written by another bench ({holder}); wait for it to finish or "
                           "use another --results-dir") from None
    (folder / f"{path.name}.who").write_text(f"pid {os.getpid()}: {context_text}\n")

    class _Held:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            lock.release()

    return _Held()


def _benchmark_locked(method, about, opened, seeds, config, results_dir, progress, log,
                      compute, zoo):
    """:func:`_benchmark` holding the record's lock."""
    partial = _partial_dir(results_dir, zoo, about["name"])
    context = {"zoo": zoo, "protocol": config.to_dict(), "method": method,
               "reads": about["reads"], "code": code_fingerprint(method)}
    saved_by_seed, todo = {}, []
    for seed in range(seeds):
        saved = _load_partial(partial / f"seed-{seed}.json", to_jsonable(context))
        if saved is None:
            todo.append(seed)
        else:
            saved_by_seed[seed] = saved
    name = about["name"]
    epochs = config.epochs
    bar = progress_bar(seeds * epochs, f"{name}, {seeds} seeds x {epochs} epochs", "epoch",
                       enabled=progress,
                       initial=(seeds - len(todo)) * epochs, line_every=None)
    say = bar.write if progress else (log or (lambda line: None))

    def tau_text(saved: dict) -> str:
        tau = saved["run"]["test"]["kendall_tau"]
        actual = (saved_by_seed.get(0, saved).get("predictions") or {}).get("actual_sr")
        if actual is None:  # the labels are saved with seed 0
            return fmt_tau(tau)
        return run_tau_text(tau, saved["test_predicted"], actual)

    with bar:
        for done, seed in enumerate(sorted(saved_by_seed), 1):
            say(f"{name} seed {seed} ({done}/{seeds}): done before, test tau "
                f"{tau_text(saved_by_seed[seed])}")
        runs = iter(compute(todo, bar)) if todo else iter(())
        for done, seed in enumerate(todo, len(saved_by_seed) + 1):
            bar.set_description(f"{name} seed {seed} ({done}/{seeds})")
            t0 = time.monotonic()
            result, audited = next(runs)
            saved = {"context": context, "run": result.to_record(),
                     "test_predicted": result.test_predicted}
            if seed == 0:
                saved["predictions"] = {"model_id": result.test_model_ids,
                                        "actual_sr": result.test_actual}
                if audited is not None:
                    saved["audit"] = audited
            check_unchanged_since_start(method)
            path = partial / f"seed-{seed}.json"
            partial.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(to_jsonable(saved), indent=2).encode())
            saved_by_seed[seed] = json.loads(path.read_text())
            eta = bar.eta()
            say(f"{name} seed {seed} ({done}/{seeds}): test tau "
                f"{tau_text(saved_by_seed[seed])}, best epoch {result.best_epoch}, "
                f"{time.monotonic() - t0:.0f} s" + (f", ETA {eta}" if eta else ""))
        for _ in runs:  # a sealed run's closing message
            pass
    runs = [saved_by_seed[s]["run"] for s in range(seeds)]
    by_seed = [saved_by_seed[s]["test_predicted"] for s in range(seeds)]
    predictions = saved_by_seed[0]["predictions"]
    record = build_record(
        method=about["name"], display_name=about["title"], kind=about["kind"],
        reads=about["reads"], zoo=zoo, runs=runs,
        predictions={**predictions, "predicted_sr": by_seed}, protocol=config.to_dict(),
        code_fingerprint=context["code"], param_count=runs[0]["param_count"],
        wall_time_s=round(sum(r["wall_time_s"] for r in runs), 1),
        audit=saved_by_seed[0].get("audit"))
    path = write_result(record, results_dir)
    publish_labels(opened, results_dir)
    return record, path
