"""The ``tinyzoo`` command line: one typer application and its console entry point."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from tinyzoo import __version__
from tinyzoo.errors import TinyZooError

PROG_NAME = "tinyzoo"

app = typer.Typer(
    name=PROG_NAME,
    help=(
        "Tiny RNN Zoo: a dataset and benchmark suite around weight zoos "
        "(10,000 seq2seq GRU models and their test success rates), weight-space "
        "predictors (UNF, STATNN, Deep Sets) and reproduction of the paper "
        "'Universal Neural Functionals' (Zhou et al., 2024)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

reproduce_app = typer.Typer(
    help="Reproduce the paper's tables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(reproduce_app, name="reproduce", help="Reproduce the paper's tables.")


@app.command("version", help="Print the installed version of tiny-rnn-zoo.")
def version_command() -> None:
    typer.echo(__version__)


@app.command("build", help="Train and archive a zoo (or one shard of it); resumable. "
             "Groups are sharded over every local device; --backend ray fans the groups "
             "out to a Ray cluster.")
def build_command(
    preset: str = typer.Option(..., help="Zoo preset: paper, small, mini or tiny."),
    out: str = typer.Option(..., help="Zoo folder to build into (created if missing)."),
    shard: str | None = typer.Option(None, help="Build only slice i of N (i/N), e.g. 0/4."),
    models: str | None = typer.Option(
        None, help="Build only the training groups holding models a..b-1 (a:b)."
    ),
    workers: int | None = typer.Option(
        None, help="local: training groups trained at once (default 1; 2 keeps a 2-core "
        "CPU busy). ray without --address: CPUs of the local Ray instance (default: all)."
    ),
    devices: int | None = typer.Option(
        None, help="local: shard each group over the first N local devices (default: all)."
    ),
    backend: str = typer.Option("local", help="local (this process) or ray."),
    address: str | None = typer.Option(
        None, help="ray: address of a running Ray cluster (e.g. auto); default: start a "
        "local instance."
    ),
    cpus_per_task: float = typer.Option(1.0, help="ray: CPUs per task (one group a task)."),
    gpus_per_task: float = typer.Option(
        0.0, help="ray: GPUs per task; a task's group is sharded over its GPUs."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from zoo_builder.build import build_zoo, parse_models, parse_shard
    from zoo_builder.presets import get_preset

    try:
        config = get_preset(preset)
        shard_sel = parse_shard(shard) if shard is not None else None
        models_sel = parse_models(models, config.num_models) if models is not None else None
        if workers is not None and workers < 1:
            raise ValueError(f"--workers {workers}: need at least 1")
        if devices is not None and devices < 1:
            raise ValueError(f"--devices {devices}: need at least 1")
        if "://" in out:
            raise ValueError(f"--out {out!r}: give a local or shared-filesystem path "
                             "(URLs are not supported for building)")
        if backend not in ("local", "ray"):
            raise ValueError(f"--backend {backend!r}: choose local or ray")
        ray_only = {"--address": address is not None, "--cpus-per-task": cpus_per_task != 1.0,
                    "--gpus-per-task": gpus_per_task != 0.0}
        if backend == "local" and any(ray_only.values()):
            first = next(k for k, v in ray_only.items() if v)
            raise ValueError(f"{first}: only with --backend ray")
        if backend == "ray" and devices is not None:
            raise ValueError("--devices: not with --backend ray (use --gpus-per-task)")
        if cpus_per_task <= 0 or gpus_per_task < 0:
            raise ValueError(f"--cpus-per-task {cpus_per_task} / --gpus-per-task "
                             f"{gpus_per_task}: need cpus > 0 and gpus >= 0")
        if backend == "ray":
            from zoo_builder.ray_build import build_zoo_ray, import_ray

            import_ray()  # before anything is written
            report = build_zoo_ray(out, config, shard=shard_sel, models=models_sel,
                                   address=address, workers=workers,
                                   cpus_per_task=cpus_per_task, gpus_per_task=gpus_per_task,
                                   progress=not quiet)
        else:
            report = build_zoo(out, config, shard=shard_sel, models=models_sel,
                               progress=not quiet, workers=workers or 1, devices=devices)
    except ValueError as exc:
        raise TinyZooError(str(exc)) from None
    state = "complete" if report.complete else "incomplete (other slices still missing)"
    where = "Ray tasks" if backend == "ray" else f"{report.devices} device(s)"
    typer.echo(
        f"{report.zoo_dir}: built {report.groups_built} training groups "
        f"({report.models_built} models) on {where}, {report.groups_skipped} already done; "
        f"zoo {state}"
    )


@app.command("download", help="Download a published zoo (https:// URL or hf://ORG/NAME), "
             "resumably, verifying every shard's sha256.")
def download_command(
    source: str = typer.Argument(..., help="https://... zoo folder URL or hf://ORG/NAME[@REV]."),
    out: str = typer.Option(..., help="Local zoo folder to download into."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from zoo_builder.download import download_zoo

    report = download_zoo(source, out, progress=not quiet)
    typer.echo(
        f"{report.zoo_dir}: {report.shards_downloaded} shards downloaded "
        f"({report.bytes_downloaded / 2**20:.1f} MiB), {report.shards_present} already "
        "present; every shard verified; zoo complete"
    )


@app.command("verify", help="Re-check a local zoo: manifest, split, every shard's sha256.")
def verify_command(
    zoo_dir: str = typer.Argument(..., help="Zoo folder."),
) -> None:
    from zoo_builder.download import verify_zoo

    report = verify_zoo(zoo_dir)
    if not report.ok:
        path, message = report.problems[0]
        more = len(report.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise TinyZooError(f"{path}: {message}{tail}")
    typer.echo(
        f"{report.zoo_dir}: {report.shards_checked} shards verified, "
        f"{report.num_models} models; zoo complete"
    )


@app.command("info", help="Summarise a zoo: models, splits, SR distribution (and a "
             "histogram PNG), hyperparameters, versions, checksum status.")
def info_command(
    zoo_dir: str = typer.Argument(..., help="Zoo folder."),
    png: str | None = typer.Option(
        None, help="Where to write the SR histogram [default: ZOO_DIR/sr_histogram.png]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    no_check: bool = typer.Option(False, "--no-check", help="Skip re-hashing the shards."),
) -> None:
    import json
    from pathlib import Path

    from zoo_builder.info import format_summary, write_sr_histogram, zoo_summary
    from zoo_builder.zoo import open_local_zoo

    zoo = open_local_zoo(zoo_dir)
    summary = zoo_summary(zoo, check=not no_check)
    png_path = Path(png) if png is not None else Path(zoo_dir) / "sr_histogram.png"
    if not png_path.parent.is_dir():
        raise TinyZooError(f"{png_path}: folder {png_path.parent} does not exist")
    write_sr_histogram(zoo, png_path)
    summary["histogram_png"] = str(png_path)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(format_summary(summary))
        typer.echo(f"histogram:      {png_path}")


@app.command("export", help="Export a zoo: one .npz in the layout of the paper's "
             "predictor script, or one .safetensors file per model.")
def export_command(
    zoo_dir: str = typer.Argument(..., help="Zoo folder."),
    format: str = typer.Option(..., "--format", help="npz or safetensors."),
    out: str = typer.Option(..., help="The .npz file, or the folder for .safetensors files."),
    split: str | None = typer.Option(
        None, help="safetensors only: export one split (train, val or test)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from zoo_builder.export import export_npz, export_safetensors
    from zoo_builder.zoo import open_local_zoo

    if format not in ("npz", "safetensors"):
        raise TinyZooError(f"--format {format!r}: choose npz or safetensors")
    if format == "npz" and split is not None:
        raise TinyZooError("--split: the npz file always holds every model (train, val, test)")
    zoo = open_local_zoo(zoo_dir, split)
    if format == "npz":
        path = export_npz(zoo, out, progress=not quiet)
        typer.echo(f"{path}: {len(zoo)} models (train, val, test in order)")
    else:
        paths = export_safetensors(zoo, out, progress=not quiet)
        typer.echo(f"{out}: {len(paths)} .safetensors files")


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
    from benchmarks.results import zoo_key
    from benchmarks.submit import submit

    report = submit(predictions, zoo, name, results_dir)
    test = report.record["runs"][0]["test"]

    def fmt(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.4f}"

    tau = fmt(test["kendall_tau"])
    if test["kendall_tau"] is None:
        tau += " (constant predictions rank nothing)"
    typer.echo(
        f"{name}: test Kendall's tau {tau} on {test['n']} test models of zoo "
        f"{zoo_key(report.record['zoo'])} (Spearman {fmt(test['spearman'])}, "
        f"R² {fmt(test['r2'])}, MAE {fmt(test['mae'])})"
    )
    replaced = " (replacing an earlier submission of that name)" if report.replaced else ""
    typer.echo(f"wrote {report.path}{replaced}")


@app.command("leaderboard", help="Render LEADERBOARD.md, leaderboard.csv and prediction "
             "plots from the result records.")
def leaderboard_command(
    results_dir: str = typer.Option("leaderboard/results", help="Folder of result records."),
    out: str = typer.Option("leaderboard", help="Folder to write LEADERBOARD.md, "
                            "leaderboard.csv and plots/ into."),
) -> None:
    from benchmarks.leaderboard import write_leaderboard

    report = write_leaderboard(results_dir, out)
    if report.num_results == 0:
        typer.echo(f"{report.markdown}: no results yet in {results_dir}")
        return
    typer.echo(
        f"{report.markdown}: {report.num_results} result"
        f"{'s' if report.num_results != 1 else ''} on {report.num_zoos} zoo"
        f"{'s' if report.num_zoos != 1 else ''}; {report.csv}; {len(report.plots)} plot"
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



def _protocol(epochs: int, batch_size: int, lr: float, augment: bool):
    from benchmarks.protocol import ProtocolConfig

    for name, value in (("--epochs", epochs), ("--batch-size", batch_size)):
        if value < 1:
            raise TinyZooError(f"{name} {value}: need at least 1")
    if not lr > 0:
        raise TinyZooError(f"--lr {lr}: need a positive learning rate")
    return ProtocolConfig(epochs=epochs, batch_size=batch_size, learning_rate=lr,
                          augment=augment)


_EPOCHS = typer.Option(10, help="Training epochs (the paper: 10).")
_BATCH = typer.Option(10, "--batch-size", help="Training batch size (the paper: 10).")
_LR = typer.Option(1e-3, "--lr", help="Adam learning rate (the paper: 1e-3).")
_AUGMENT = typer.Option(False, "--augment", help="Train on randomly permuted copies "
                        "(hidden-unit permutations, the GRU's true symmetry).")


@app.command("bench", help="Benchmark a predictor on a zoo: the protocol for N seeds, a "
             "symmetry audit, one result file in leaderboard/results/; resumable.")
def bench_command(
    method: str = typer.Argument(..., help="unf, statnn, deep-sets, linear-stats, constant, "
                                 "or path/to/file.py:ClassName."),
    zoo: str = typer.Option(..., help="Zoo folder."),
    seeds: int = typer.Option(5, help="Seeds 0..N-1."),
    epochs: int = _EPOCHS,
    batch_size: int = _BATCH,
    lr: float = _LR,
    augment: bool = _AUGMENT,
    results_dir: str = typer.Option("leaderboard/results", help="Where result files go."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    from benchmarks.bench import run_benchmark

    if seeds < 1:
        raise TinyZooError(f"--seeds {seeds}: need at least 1")
    config = _protocol(epochs, batch_size, lr, augment)
    record, path = run_benchmark(method, zoo, seeds, config, results_dir,
                                 progress=not quiet, log=typer.echo)
    tau = record["summary"]["test_kendall_tau"]
    value = "undefined" if tau["mean"] is None else f"{tau['mean']:.4f}"
    if tau["std"] is not None:
        value += f" ± {tau['std']:.4f}"
    typer.echo(f"{record['display_name']}: test Kendall tau {value} over {tau['n']} seeds; "
               f"wrote {path}")


@app.command("audit", help="Symmetry audit: train a predictor (one seed) and compare its "
             "outputs on test weights and on hidden-unit-permuted copies.")
def audit_command(
    method: str = typer.Argument(..., help="A built-in name or path/to/file.py:ClassName."),
    zoo: str = typer.Option(..., help="Zoo folder."),
    seed: int = typer.Option(0, help="Training seed."),
    permutations: int = typer.Option(3, help="Random permutations per model."),
    models: int = typer.Option(100, help="Test models audited."),
    epochs: int = _EPOCHS,
    batch_size: int = _BATCH,
    lr: float = _LR,
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from benchmarks.audit import INVARIANCE_TOLERANCE, audit_predictor
    from benchmarks.protocol import run_protocol
    from predictors.registry import load_predictor
    from zoo_builder.zoo import open_local_zoo

    if permutations < 1 or models < 1:
        raise TinyZooError("--permutations and --models: need at least 1")
    config = _protocol(epochs, batch_size, lr, False)
    predictor, _ = load_predictor(method)
    splits = tuple(open_local_zoo(zoo, s) for s in ("train", "val", "test"))
    result = run_protocol(predictor, zoo, seed, config, progress=not quiet, zoos=splits)
    audit = audit_predictor(result.trained, splits[2], permutations, models, seed)
    verdict = ("invariant" if audit["max_abs_diff"] <= INVARIANCE_TOLERANCE
               else "NOT invariant")
    typer.echo(f"{predictor.title()}: max |SR(permuted) - SR(original)| = "
               f"{audit['max_abs_diff']:.3g} over {audit['num_models']} test models x "
               f"{audit['num_permutations']} permutations: {verdict} "
               f"(tolerance {INVARIANCE_TOLERANCE:g})")


@reproduce_app.command("table1", help="Table 1: Kendall's tau of every built-in predictor "
                       "on a zoo (built if missing), all seeds, beside the paper's figures.")
def table1_command(
    preset: str = typer.Option(..., help="Zoo preset: mini, small or paper (tiny for tests)."),
    zoo: str | None = typer.Option(None, help="Zoo folder [default: data/zoos/PRESET]."),
    seeds: int = typer.Option(5, help="Seeds per method."),
    methods: str | None = typer.Option(None, help="Comma-separated subset of the built-ins."),
    epochs: int = _EPOCHS,
    batch_size: int = _BATCH,
    lr: float = _LR,
    workers: int = typer.Option(2, help="Training groups built at once if the zoo is built."),
    results_dir: str = typer.Option("leaderboard/results", help="Where result files go."),
    leaderboard_dir: str = typer.Option("leaderboard", help="Where the tables go."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
) -> None:
    from benchmarks.table1 import format_table1, reproduce_table1

    if seeds < 1:
        raise TinyZooError(f"--seeds {seeds}: need at least 1")
    if workers < 1:
        raise TinyZooError(f"--workers {workers}: need at least 1")
    config = _protocol(epochs, batch_size, lr, False)
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    rows = reproduce_table1(preset, zoo, seeds, chosen, config, results_dir, leaderboard_dir,
                            workers, progress=not quiet, log=typer.echo)
    typer.echo(format_table1(rows, preset))
    typer.echo(f"leaderboard: {leaderboard_dir}/LEADERBOARD.md")

def _one_line(message: object) -> str:
    """Join a possibly multi-line message into one line."""
    parts = [part.strip() for part in str(message).splitlines()]
    return " ".join(part for part in parts if part) or "unknown error"


def _fail(message: object, code: int) -> int:
    print(f"{PROG_NAME}: error: {_one_line(message)}", file=sys.stderr)
    return code


def _exception_classes(name: str) -> tuple[type[BaseException], ...]:
    """The classes called ``name`` in click and in typer's own copy of click.

    typer up to 0.2x raises ``click``'s exceptions; newer typer vendors click as
    ``typer._click`` (with ``Exit``/``Abort`` in ``typer.exceptions``), whose classes are
    distinct. Catching both keeps :func:`main` correct across the supported range.
    """
    modules = []
    for module_name in ("click.exceptions", "typer._click.exceptions", "typer.exceptions"):
        try:
            modules.append(importlib.import_module(module_name))
        except ImportError:
            continue
    found = {getattr(module, name, None) for module in modules}
    return tuple(cls for cls in found if isinstance(cls, type))


_CLICK_ERRORS = _exception_classes("ClickException")
_USAGE_ERRORS = _exception_classes("UsageError")
_NO_ARGS_IS_HELP = _exception_classes("NoArgsIsHelpError")  # click >= 8.2, vendored click
_ABORTS = _exception_classes("Abort")
_EXITS = _exception_classes("Exit")


def main(argv: Sequence[str] | None = None, *, application: typer.Typer | None = None) -> int:
    """Run the CLI and return its exit code (the console script passes it to ``sys.exit``).

    ``argv`` defaults to ``sys.argv[1:]``; ``application`` defaults to :data:`app`.
    Errors meant for the user become one line on stderr: usage errors and
    :class:`TinyZooError` exit 2, an interrupt exits 130. A group called without
    arguments prints its help and exits 0.
    """
    command = typer.main.get_command(application if application is not None else app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name=PROG_NAME, standalone_mode=False)
    except _NO_ARGS_IS_HELP as exc:
        # The message is the help text; typer's rich formatter has printed it already
        # (to stdout) and left the message empty.
        help_text = exc.format_message()
        if help_text.strip():
            print(help_text)
        return 0
    except _CLICK_ERRORS as exc:
        message = exc.format_message()
        if isinstance(exc, _USAGE_ERRORS):
            ctx = getattr(exc, "ctx", None)
            path = ctx.command_path if ctx is not None else PROG_NAME
            message = f"{_one_line(message)} (see '{path} --help')"
        return _fail(message, 2)
    except TinyZooError as exc:
        return _fail(exc, 2)
    except (*_ABORTS, KeyboardInterrupt):
        print(f"{PROG_NAME}: interrupted", file=sys.stderr)
        return 130
    except _EXITS as exc:
        return int(exc.exit_code)
    if isinstance(result, int) and not isinstance(result, bool):
        # typer turns KeyboardInterrupt into Exit(130), which comes back as a return value.
        if result == 130:
            print(f"{PROG_NAME}: interrupted", file=sys.stderr)
        return result
    return 0
