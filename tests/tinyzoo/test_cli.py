"""The ``tinyzoo`` console entry: help, version and one-line errors with the right exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer

from tinyzoo import __version__
from tinyzoo.cli import main
from zoo_data.errors import TinyZooError


def run_tinyzoo(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1", "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "tinyzoo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tinyzoo: error:"), result.stderr
    return lines[0]


def test_help_lists_commands_with_their_help() -> None:
    result = run_tinyzoo("--help")
    assert result.returncode == 0, result.stderr
    assert "reproduce" in result.stdout
    assert "Reproduce the paper's tables." in result.stdout
    assert "version" in result.stdout
    assert "Print the installed version of tiny-rnn-zoo." in result.stdout
    assert "build" in result.stdout
    assert "Train and archive a zoo" in result.stdout


def test_no_arguments_prints_help_and_succeeds() -> None:
    result = run_tinyzoo()
    assert result.returncode == 0, result.stderr
    assert "reproduce" in result.stdout
    assert result.stderr == ""


def test_unknown_option_is_one_line_usage_error() -> None:
    line = assert_one_line_error(run_tinyzoo("--bogus"))
    assert "--bogus" in line


def test_unknown_command_is_one_line_usage_error() -> None:
    line = assert_one_line_error(run_tinyzoo("no-such-command"))
    assert "no-such-command" in line


def test_version_prints_the_version() -> None:
    result = run_tinyzoo("version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == __version__


def _app_raising(exc: BaseException) -> typer.Typer:
    application = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @application.command()
    def fail() -> None:
        raise exc

    @application.command()
    def ok() -> None:
        pass

    return application


def test_main_turns_tinyzoo_error_into_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    application = _app_raising(TinyZooError("corrupt shard\nsha256 mismatch"))
    assert main(["fail"], application=application) == 2
    err = capsys.readouterr().err
    assert err == "tinyzoo: error: corrupt shard sha256 mismatch\n"


def test_main_turns_interrupt_into_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fail"], application=_app_raising(KeyboardInterrupt())) == 130
    assert capsys.readouterr().err == "tinyzoo: interrupted\n"


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fail"], application=_app_raising(typer.Exit(3))) == 3
    assert main(["ok"], application=_app_raising(typer.Exit(3))) == 0
    assert capsys.readouterr().err == ""


def test_main_lets_bugs_raise() -> None:
    with pytest.raises(ZeroDivisionError):
        main(["fail"], application=_app_raising(ZeroDivisionError()))
