"""``tinyzoo version``, ``build``, ``download``, ``verify``, ``info``, ``export``: the
zoo data commands. Each parses its options, calls one library function and prints;
heavy modules are imported inside the command, after the arguments are parsed, so
``--help`` and usage errors return at once."""

from __future__ import annotations

import typer

from tinyzoo.app import NO_VERIFY, app, skip_verification
from zoo_data.errors import TinyZooError
from zoo_data.version import __version__


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
    from zoo_builder.request import BuildRequest

    request = BuildRequest.parse(preset, out, shard=shard, models=models, workers=workers,
                                 devices=devices, backend=backend, address=address,
                                 cpus_per_task=cpus_per_task, gpus_per_task=gpus_per_task)
    from zoo_builder.build import run_build

    report = run_build(request, progress=not quiet)
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
    from zoo_data.remote.download import download_zoo

    report = download_zoo(source, out, progress=not quiet,
                          log=lambda line: typer.echo(line, err=True))
    typer.echo(
        f"{report.zoo_dir}: {report.shards_downloaded} shards downloaded "
        f"({report.bytes_downloaded / 2**20:.1f} MiB), {report.shards_present} already "
        "present; every shard verified; zoo complete"
    )


@app.command("verify", help="Re-check a local zoo: manifest, split, every shard's sha256 "
             "and values, and its labels against the label file its manifest records.")
def verify_command(
    zoo_dir: str = typer.Argument(..., help="Zoo folder."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress on stderr."),
) -> None:
    from zoo_data.archive.verify import verify_zoo

    report = verify_zoo(zoo_dir, progress=not quiet)
    if not report.ok:
        path, message = report.problems[0]
        more = len(report.problems) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise TinyZooError(f"{path}: {message}{tail}")
    from zoo_data.archive.label_file import LABELS_KEY
    from zoo_data.archive.manifest import read_manifest

    labels = ("its labels are its label file's" if LABELS_KEY in read_manifest(zoo_dir)
              else "no label file recorded (built before them: 'tinyzoo migrate' adds it)")
    typer.echo(
        f"{report.zoo_dir}: {report.shards_checked} shards verified, "
        f"{report.num_models} models; zoo complete; {labels}"
    )


@app.command("info", help="Summarise a zoo: models, splits, SR distribution (and a "
             "histogram PNG), hyperparameters, versions, checksum status.")
def info_command(
    zoo_dir: str = typer.Argument(..., help="Zoo folder."),
    png: str | None = typer.Option(
        None, help="Where to write the SR histogram (default: ZOO_DIR/sr_histogram.png)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON document to stdout instead of text: {path, "
        "preset, config_fingerprint, num_models, models_trained, checkpoints, recipe, "
        "splits: {train, val, test}, sr and sr_by_split.{train,val,test}: {count, mean, "
        "quantiles, most_common_share, share_above_0.5, share_below_0.1}, "
        "hyperparameters, model, trainer_revision, builder_version, versions, "
        "manifest_sha256, checksums: {status, shards_checked, problems}, histogram_png}. "
        "Full precision."),
    no_verify: bool = typer.Option(False, "--no-verify", "--no-check",
                                   help="Trust the shards without checking their sha256."),
) -> None:
    from zoo_data.info import describe_zoo, format_summary

    summary = describe_zoo(zoo_dir, png, check=not no_verify)
    if as_json:
        from tinyzoo.output import echo_json

        echo_json(summary)
    else:
        typer.echo(format_summary(summary))
        typer.echo(f"histogram:      {summary['histogram_png']}")


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
    no_verify: bool = NO_VERIFY,
) -> None:
    skip_verification(no_verify)
    from zoo_data.export import export_zoo

    zoo, paths = export_zoo(zoo_dir, format, out, split, progress=not quiet)
    if format == "npz":
        typer.echo(f"{paths[0]}: {len(zoo)} models (train, val, test in order)")
    else:
        typer.echo(f"{out}: {len(paths)} .safetensors files")
