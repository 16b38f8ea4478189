"""``tinyzoo migrate``: convert an older zoo folder in place to the current archive
format (:mod:`zoo_data.archive.migrate`) and carry its result records over to the migrated zoo
(:mod:`benchmarks.rekey`)."""

from __future__ import annotations

import typer

from tinyzoo.app import app


@app.command("migrate", help="Convert a format-1 zoo folder in place to format 2 (a "
             "Parquet file per split, so datasets.load_dataset gives train, validation "
             "and test), byte for byte what a fresh build writes. Crash-safe: run it "
             "again to finish an interrupted migration. Result records of the old zoo "
             "are re-keyed to the new one. A format-2 zoo built before label files gets the "
             "sha256 of its label file in its manifest (a new identity, no shard "
             "changed; its records are re-keyed the same way).")
def migrate_command(
    zoo_dir: str = typer.Argument(..., help="The zoo folder to migrate."),
    results_dir: str = typer.Option(
        "leaderboard/results", help="Folder of result records: those of the old zoo get "
        "the migrated zoo's manifest sha256 and file name (a missing folder is skipped)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    from benchmarks.rekey import RekeyReport, rekey_records
    from zoo_data.archive.migrate import migrate_zoo

    rekeyed: list[RekeyReport] = []

    def on_switched(old_sha256: str, new_sha256: str) -> None:
        rekeyed.append(rekey_records(results_dir, old_sha256, new_sha256))

    report = migrate_zoo(zoo_dir, progress=not quiet, on_switched=on_switched)
    if report.status == "current":
        typer.echo(f"{report.zoo_dir}: already in archive format {report.format_version} "
                   "(a file per split); nothing to do")
        return
    old = report.old_manifest_sha256[:8] if report.old_manifest_sha256 else "?"
    if report.status == "labelled":
        typer.echo(f"{report.zoo_dir}: recorded the sha256 of its label file in its "
                   f"manifest, as a build now does (manifest sha256 {old}... -> "
                   f"{report.new_manifest_sha256[:8]}...; no shard changed)")
    else:
        what = ("migrated to" if report.status == "migrated"
                else "finished an interrupted migration to")
        typer.echo(f"{report.zoo_dir}: {what} archive format {report.format_version} "
                   f"(manifest sha256 {old}... -> {report.new_manifest_sha256[:8]}...)")
    for done in rekeyed:
        if done.moved:
            typer.echo(f"{results_dir}: re-keyed {len(done.moved)} result records to the "
                       "migrated zoo (re-render the board with 'tinyzoo leaderboard')")
        for path in done.conflicts:
            typer.echo(f"{path}: kept as it is: a different record of this method on the "
                       "migrated zoo exists already", err=True)
