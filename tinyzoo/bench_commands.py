"""``tinyzoo submit``, ``leaderboard``, ``bench``, ``audit`` and ``reproduce table1 |
table3``: the benchmark commands. Each parses its options, calls one library function
and prints; heavy modules are imported inside the command."""

from __future__ import annotations

import typer

from tinyzoo.app import NO_VERIFY, PROG_NAME, app, reproduce_app, skip_verification
from tinyzoo.output import echo_err, echo_json


@app.command("submit", help="Score a CSV of predicted success rates (model_id,predicted_sr) "
             "for a zoo's test split and write its result record.")
def submit_command(
    predictions: str = typer.Option(..., help="The CSV: header model_id,predicted_sr, one "
                                    "row per test model, optional first line "
                                    "'# zoo_manifest_sha256=<sha>'."),
    zoo: str = typer.Option(..., help="The zoo folder the predictions are for."),
    name: str = typer.Option(..., help="Method name on the leaderboard ([A-Za-z0-9._-]+)."),
    results_dir: str = typer.Option("leaderboard/results", help="Folder of result records."),
) -> None:
    from benchmarks.formatting import fmt_tau, record_tau_reason
    from benchmarks.results import zoo_key
    from benchmarks.submit import submit

    report = submit(predictions, zoo, name, results_dir)
    test = report.record["runs"][0]["test"]
    tau = fmt_tau(test["kendall_tau"], record_tau_reason(report.record))
    typer.echo(
        f"{name}: test Kendall's tau {tau} on {test['n']} test models of zoo "
        f"{zoo_key(report.record['zoo'])} (Spearman {fmt_tau(test['spearman'])}, "
        f"R² {fmt_tau(test['r2'])}, MAE {fmt_tau(test['mae'])})"
    )
    replaced = " (replacing an earlier submission of that name)" if report.replaced else ""
    typer.echo(f"wrote {report.path}{replaced}")


@app.command("leaderboard", help="Render LEADERBOARD.md, leaderboard.csv, index.html and "
             "prediction plots from the result records.")
def leaderboard_command(
    results_dir: str = typer.Option("leaderboard/results", help="Folder of result records."),
    out: str = typer.Option("leaderboard", help="Folder to write LEADERBOARD.md, "
                            "leaderboard.csv, index.html and plots/ into."),
    zoos: str = typer.Option(None, help="A folder of zoo folders (such as data/zoos): "
                             "each one a record is made on is verified and its manifest "
                             "and label file copied into RESULTS_DIR/labels first, so "
                             "that its records' test labels can be checked."),
) -> None:
    from benchmarks.leaderboard import write_leaderboard

    if zoos is not None:
        from benchmarks.provenance import publish_zoo_folder

        for path in publish_zoo_folder(zoos, results_dir):
            typer.echo(f"{path}: the label file of a verified zoo in {zoos}")
    report = write_leaderboard(results_dir, out)
    if report.num_results == 0:
        typer.echo(f"{report.markdown}: no results yet in {results_dir}")
        return
    typer.echo(
        f"{report.markdown}: {report.num_results} result"
        f"{'s' if report.num_results != 1 else ''} on {report.num_zoos} zoo"
        f"{'s' if report.num_zoos != 1 else ''}; {report.csv}; {report.html}; "
        f"{len(report.plots)} plot"
        f"{'s' if len(report.plots) != 1 else ''} in {report.markdown.parent / 'plots'}"
    )


@reproduce_app.command("table3", help="Table 3: parameter counts of UNF and Deep Set networks.")
def table3_command() -> None:
    from benchmarks.table3 import format_table3, table3_rows

    rows = table3_rows()
    typer.echo(format_table3(rows))
    mismatches = [
        f"{row['task']}: unf {row['unf']} (paper {row['paper_unf']}), "
        f"deep_set {row['deep_set']} (paper {row['paper_deep_set']})"
        for row in rows
        if row["unf"] != row["paper_unf"] or row["deep_set"] != row["paper_deep_set"]
    ]
    if mismatches:
        for line in mismatches:
            typer.echo(f"{PROG_NAME}: mismatch with the paper: {line}", err=True)
        raise typer.Exit(1)


def _protocol(preset: str | None, epochs: int | None, passes_per_epoch: int | None,
              patience: int | None, batch_size: int, lr: float, augment: bool):
    """The protocol of a zoo of ``preset`` (:func:`benchmarks.protocol_config.
    default_protocol`) with the options given on the command line."""
    from benchmarks.protocol_config import default_protocol

    return default_protocol(preset, epochs=epochs, passes_per_epoch=passes_per_epoch,
                            patience=patience, batch_size=batch_size, learning_rate=lr,
                            augment=augment)


def _zoo_preset(zoo: str) -> str:
    from zoo_data.zoo import open_local_zoo

    return open_local_zoo(zoo, verify=False).config.preset


_EPOCHS = typer.Option(None, help="Evaluations of the validation split, one per epoch "
                       "(default 10; the paper's script: 10).")
_PASSES = typer.Option(None, "--passes-per-epoch", help="Passes over the training models "
                       "per epoch (default 10, the paper's script; 1 on mini and tiny "
                       "zoos).")
_PATIENCE = typer.Option(None, help="Stop after this many epochs without a better "
                         "validation tau; 0: never (default 3; never on mini and tiny).")
_BATCH = typer.Option(10, "--batch-size", help="Training batch size (the paper: 10).")
_LR = typer.Option(1e-3, "--lr", help="Adam learning rate (the paper: 1e-3).")
_AUGMENT = typer.Option(False, "--augment", help="Train on randomly permuted copies "
                        "(hidden-unit permutations, the GRU's true symmetry).")


_QUIET = typer.Option(False, "--quiet", help="No progress (bars or lines) on stderr.")
_SCHEME = typer.Option("id-ranges", "--split-scheme", help="Which models are train, val "
                       "and test: id-ranges (the fixed 80/10/10 split) or one the zoo "
                       "offers, e.g. lr-shift (test learning rates no training model "
                       "has; data/splits/PRESET.json).")


@app.command("bench", help="Benchmark a predictor on a zoo: the protocol for N seeds, a "
             "symmetry audit, one result file in leaderboard/results/; resumable. Progress "
             "(a bar on a terminal, else one line per finished seed) goes to stderr.")
def bench_command(
    method: str = typer.Argument(..., help="unf, statnn, deep-sets, linear-stats, constant, "
                                 "or path/to/file.py:ClassName."),
    zoo: str = typer.Option(..., help="Zoo folder."),
    seeds: int = typer.Option(5, help="Seeds 0..N-1."),
    epochs: int | None = _EPOCHS,
    passes_per_epoch: int | None = _PASSES,
    patience: int | None = _PATIENCE,
    batch_size: int = _BATCH,
    lr: float = _LR,
    augment: bool = _AUGMENT,
    results_dir: str = typer.Option("leaderboard/results", help="Where result files go."),
    quiet: bool = _QUIET,
    split_scheme: str = _SCHEME,
    time_limit: float = typer.Option(
        3600.0, "--time-limit", help="A code submission's wall-clock limit per seed, in "
        "seconds; past it its process is stopped and the run refused."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document to stdout instead of text: the "
        "result record (leaderboard/README.md) without its per-model 'predictions', plus "
        "'result_file' and 'test_kendall_tau_undefined_reason' (null, or why the mean "
        "test tau, summary.test_kendall_tau.mean, is null). Full precision."),
    no_verify: bool = NO_VERIFY,
) -> None:
    """``tinyzoo bench``; with ``--json`` stdout holds the record (see ``--json``)."""
    skip_verification(no_verify)
    config = _protocol(_zoo_preset(zoo), epochs, passes_per_epoch, patience, batch_size, lr,
                       augment)
    from benchmarks.bench import run_benchmark
    from benchmarks.formatting import fmt_tau_pm, record_tau_reason

    record, path = run_benchmark(method, zoo, seeds, config, results_dir,
                                 progress=not quiet, log=None, split_scheme=split_scheme,
                                 time_limit_s=time_limit)
    reason = record_tau_reason(record)
    if as_json:
        echo_json({**{k: v for k, v in record.items() if k != "predictions"},
                   "test_kendall_tau_undefined_reason": reason, "result_file": str(path)})
        return
    tau = record["summary"]["test_kendall_tau"]
    typer.echo(f"{record['display_name']}: test Kendall tau "
               f"{fmt_tau_pm(tau['mean'], tau['std'], reason)} over {tau['n']} seed"
               f"{'s' if tau['n'] != 1 else ''}; wrote {path}")


@app.command("audit", help="Symmetry audit: train a predictor (one seed) and compare its "
             "outputs on test weights and on hidden-unit-permuted copies.")
def audit_command(
    method: str = typer.Argument(..., help="A built-in name or path/to/file.py:ClassName."),
    zoo: str = typer.Option(..., help="Zoo folder."),
    seed: int = typer.Option(0, help="Training seed."),
    permutations: int = typer.Option(3, help="Random permutations per model."),
    models: int = typer.Option(100, help="Test models audited."),
    epochs: int | None = _EPOCHS,
    passes_per_epoch: int | None = _PASSES,
    patience: int | None = _PATIENCE,
    batch_size: int = _BATCH,
    lr: float = _LR,
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    no_verify: bool = NO_VERIFY,
) -> None:
    skip_verification(no_verify)
    config = _protocol(_zoo_preset(zoo), epochs, passes_per_epoch, patience, batch_size, lr,
                       False)
    from benchmarks.audit import INVARIANCE_TOLERANCE, run_audit

    predictor, audit = run_audit(method, zoo, seed, permutations, models, config,
                                 progress=not quiet)
    verdict = ("invariant" if audit["max_abs_diff"] <= INVARIANCE_TOLERANCE
               else "NOT invariant")
    typer.echo(f"{predictor.title()}: max |SR(permuted) - SR(original)| = "
               f"{audit['max_abs_diff']:.3g} over {audit['num_models']} test models x "
               f"{audit['num_permutations']} permutations: {verdict} "
               f"(tolerance {INVARIANCE_TOLERANCE:g})")


@reproduce_app.command("table1", help="Table 1: Kendall's tau of every built-in predictor "
                       "on a zoo (built if missing), all seeds, beside the paper's figures. "
                       "Progress (the build, then one bar per method; lines when stderr is "
                       "not a terminal) goes to stderr, the table to stdout.")
def table1_command(
    preset: str = typer.Option(..., help="Zoo preset: mini, small or paper (tiny for tests)."),
    zoo: str | None = typer.Option(None, help="Zoo folder (default: data/zoos/PRESET)."),
    seeds: int = typer.Option(5, help="Seeds per method."),
    methods: str | None = typer.Option(None, help="Comma-separated subset of the built-ins."),
    epochs: int | None = _EPOCHS,
    passes_per_epoch: int | None = _PASSES,
    patience: int | None = _PATIENCE,
    batch_size: int = _BATCH,
    lr: float = _LR,
    workers: int = typer.Option(2, help="Training groups built at once if the zoo is built."),
    results_dir: str = typer.Option("leaderboard/results", help="Where result files go."),
    leaderboard_dir: str = typer.Option("leaderboard", help="Where the tables go."),
    quiet: bool = _QUIET,
    split_scheme: str = _SCHEME,
    force: bool = typer.Option(
        False, "--force", help="Re-make every method's record in --results-dir, even one "
        "that the same code made (by default such a record is re-checked: the re-run "
        "goes to data/reproductions/PRESET/ and a reproduction report says how close it "
        "came, leaving the committed files as they are)."),
    reproduction_dir: str = typer.Option(
        "data/reproductions", help="Where re-checks of committed records go: "
        "REPRODUCTION_DIR/PRESET/results/ and report.md, report.json."),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document to stdout instead of the table: "
        "{preset, seeds, protocol, rows: [{method, display_name, mean, std, n, "
        "undefined_reason, paper_mean, paper_std, param_count, audit, result_file, path, "
        "reproduction}], results_dir, leaderboard, report, wall_time_s}; mean/std null "
        "when undefined; path is remake or check, reproduction the check's row (committed "
        "and re-run tau, difference, tolerance, verdict) or null. Full precision."),
    no_verify: bool = NO_VERIFY,
) -> None:
    """``tinyzoo reproduce table1``; with ``--json`` stdout holds one document (see
    ``--json``), and every message goes to stderr."""
    import time

    skip_verification(no_verify)
    config = _protocol(preset, epochs, passes_per_epoch, patience, batch_size, lr, False)
    from benchmarks.reproduction import format_report
    from benchmarks.table1 import format_table1, reproduce_table1
    from zoo_data.common.progress import format_seconds

    t0 = time.monotonic()
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    rows = reproduce_table1(preset, zoo, seeds, chosen, config, results_dir, leaderboard_dir,
                            workers, progress=not quiet,
                            log=(lambda line: None) if quiet else echo_err, force=force,
                            reproduction_dir=reproduction_dir, split_scheme=split_scheme)
    wall = time.monotonic() - t0
    remade = any(row["path"] == "remake" for row in rows)
    board = f"{leaderboard_dir}/LEADERBOARD.md" if remade else None
    checks = [row["reproduction"] for row in rows if row["reproduction"] is not None]
    report = f"{reproduction_dir}/{preset}/report.md" if checks else None
    if as_json:
        echo_json({"preset": preset, "seeds": seeds, "protocol": config.to_dict(),
                   "rows": rows, "results_dir": results_dir, "leaderboard": board,
                   "report": report, "wall_time_s": wall})
        return
    typer.echo(format_table1(rows, preset))
    if checks:
        typer.echo("")
        typer.echo(f"Reproduction of the committed records ({len(checks)} re-checked, "
                   f"nothing under {results_dir} changed; the rule: "
                   "docs/LEADERBOARD_RULES.md)")
        typer.echo(format_report(checks))
        typer.echo(f"report: {report}")
    if board is not None:
        typer.echo(f"leaderboard: {board}")
    typer.echo(f"done: {len(rows)} method{'s' if len(rows) != 1 else ''} x {seeds} seed"
               f"{'s' if seeds != 1 else ''} in {format_seconds(wall)}")
