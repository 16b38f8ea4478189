"""The ``tinyzoo`` command line: its console entry point :func:`main`, which turns every
user error into one line on stderr and an exit code.

The commands live in :mod:`tinyzoo.zoo_commands`, :mod:`tinyzoo.bench_commands` and
:mod:`tinyzoo.migrate_command`;
they parse and print, the library validates (its errors are :class:`TinyZooError`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from tinyzoo import (  # noqa: F401  (they register the commands)
    bench_commands,
    cnn_commands,
    migrate_command,
    zoo_commands,
)
from tinyzoo.app import PROG_NAME, app
from zoo_data.errors import TinyZooError, one_line

__all__ = ["app", "main"]


def _fail(message: object, code: int) -> int:
    print(f"{PROG_NAME}: error: {one_line(message)}", file=sys.stderr)
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
            message = f"{one_line(message)} (see '{path} --help')"
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
