"""``tinyzoo import small-cnn-zoo`` and ``tinyzoo reproduce table2``: the Small CNN Zoo
(:mod:`zoo_data.cnn.importer`, :mod:`benchmarks.table2`)."""

from __future__ import annotations

import typer

from tinyzoo.app import NO_VERIFY, app, reproduce_app, skip_verification
from tinyzoo.output import echo_err, echo_json

import_app = typer.Typer(
    help="Import a published zoo into this project's archive format.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(import_app, name="import",
              help="Import a published zoo into this project's archive format.")


@import_app.command("small-cnn-zoo", help="Import one dataset of the Small CNN Zoo "
                    "(Unterthiner et al. 2020) from its published files: a folder with "
                    "weights.npy, metrics.csv.gz and layout.csv, a <dataset>.tar.xz, or an "
                    "https:// URL (downloads resume when run again). Every file is checked "
                    "before anything is written; an interrupted import resumes.")
def import_small_cnn_zoo_command(
    source: str = typer.Argument(..., help="Folder, .tar.xz file, or https:// URL of the "
                                 "archive (or of the folder of archives, e.g. "
                                 "https://storage.googleapis.com/gresearch/smallcnnzoo-dataset)."),
    dataset: str = typer.Option("cifar10", help="cifar10, svhn_cropped, mnist or "
                                "fashion_mnist."),
    out: str = typer.Option(..., help="Zoo folder to write (created if missing)."),
    checkpoint: int | None = typer.Option(
        None, help="The published step (epoch) whose weights to keep; default the last "
        "(86), the one NFN and the field report on."),
    split: str = typer.Option("nfn", help="nfn: NFN's published split (comparable with NFN "
                              "Table 2); runs: ours, 80/10/10 by run."),
    split_file: str | None = typer.Option(
        None, help="NFN's <dataset>_split.csv (a path or URL); default: downloaded from "
        "AllanYangZhou/nfn at a pinned commit and checked against its sha256."),
    sha256: str | None = typer.Option(None, help="Expected sha256 of the .tar.xz archive."),
    group_size: int = typer.Option(5000, help="Networks per archive group."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress on stderr."),
) -> None:
    from zoo_data.cnn.importer import import_small_cnn_zoo

    config = import_small_cnn_zoo(source, dataset, out, checkpoint=checkpoint, split=split,
                                  split_file=split_file, sha256=sha256,
                                  group_size=group_size, progress=not quiet)
    counts = ", ".join(f"{k} {v:,}" for k, v in config.split_sizes().items())
    typer.echo(f"{out}: imported {config.num_models:,} networks of {dataset} at step "
               f"{config.checkpoint} as zoo {config.preset} ({counts}; split {split})")


@reproduce_app.command("table2", help="NFN's Table 2 on an imported Small CNN Zoo: every "
                       "built-in predictor that applies, all seeds, beside NFN's figures. "
                       "Protocol defaults are NFN's training setup (batch 8, 50 epochs).")
def table2_command(
    zoo: str = typer.Option(..., help="An imported Small CNN Zoo folder."),
    seeds: int = typer.Option(5, help="Seeds per method."),
    methods: str | None = typer.Option(None, help="Comma-separated subset of the built-ins."),
    epochs: int = typer.Option(50, help="Training epochs (NFN: 50)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Training batch size (NFN: 8)."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate (NFN: 1e-3)."),
    results_dir: str = typer.Option("leaderboard/results", help="Where result files go."),
    leaderboard_dir: str = typer.Option("leaderboard", help="Where the tables go."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress on stderr."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document: {zoo, "
                                 "seeds, protocol, rows}."),
    no_verify: bool = NO_VERIFY,
) -> None:
    skip_verification(no_verify)
    from benchmarks.protocol_config import ProtocolConfig
    from benchmarks.table2 import format_table2, reproduce_table2
    from zoo_data.zoo import open_local_zoo

    config = ProtocolConfig(epochs=epochs, passes_per_epoch=1, patience=None,
                            batch_size=batch_size, learning_rate=lr)
    chosen = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    rows = reproduce_table2(zoo, seeds, chosen, config, results_dir, leaderboard_dir,
                            progress=not quiet)
    preset = open_local_zoo(zoo, verify=False).config.preset
    if as_json:
        echo_json({"zoo": zoo, "preset": preset, "seeds": seeds,
                   "protocol": config.to_dict(), "rows": rows})
        return
    typer.echo(format_table2(rows, preset))
    if not quiet:
        echo_err(f"leaderboard: {leaderboard_dir}/LEADERBOARD.md")
