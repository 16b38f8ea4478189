"""Run the ``tinyzoo`` CLI in-process from tests and check its one-line errors."""

from __future__ import annotations

from tinyzoo.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``tinyzoo ARGS`` run in this process."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(code: int, err: str) -> str:
    """Assert a user error (exit 2, one ``tinyzoo: error:`` line, no traceback); return
    the line."""
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinyzoo: error:") and "Traceback" not in err
    return lines[0]
