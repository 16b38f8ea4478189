"""The ``tinyzoo`` typer applications; the commands register on them
(:mod:`tinyzoo.zoo_commands`, :mod:`tinyzoo.bench_commands`)."""

from __future__ import annotations

import typer

__all__ = ["PROG_NAME", "app", "reproduce_app", "NO_VERIFY", "skip_verification"]

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

#: ``--no-verify`` of every command that reads weights.
NO_VERIFY = typer.Option(
    False, "--no-verify",
    help="Trust the shards without checking their sha256 (for zoos you know are intact).",
)


def skip_verification(no_verify: bool) -> None:
    """Honour ``--no-verify`` in this process and the child processes it starts
    (:data:`zoo_data.archive.verify.NO_VERIFY_ENV`)."""
    if no_verify:
        import os

        from zoo_data.archive.verify import NO_VERIFY_ENV

        os.environ[NO_VERIFY_ENV] = "1"
