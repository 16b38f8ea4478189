"""The progress display (zoo_data.common.progress): a bar on a terminal, clean lines in a log,
nothing when disabled."""

from __future__ import annotations

import io
import re

import pytest

from zoo_builder.plan import progress_bar as build_progress
from zoo_builder.synthetic import write_synthetic_zoo
from zoo_data.common.progress import PROGRESS_ENV, format_seconds, progress_bar, use_bars
from zoo_data.rnn.presets import ZooConfig, get_preset


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)


def clean(text: str) -> None:
    assert "\r" not in text and "\x1b" not in text


def test_lines_in_a_log_a_start_a_line_per_tenth_and_each_written_unit():
    log = io.StringIO()
    with progress_bar(200, "building mini zoo", "model", stream=log) as bar:
        for _ in range(40):
            bar.update(5)
        bar.write("group 3 written")
    lines = log.getvalue().splitlines()
    clean(log.getvalue())
    assert lines[0] == "building mini zoo: 0/200 models (0%), elapsed 00:00"
    assert len(lines) == 1 + 10 + 1 and lines[-1] == "group 3 written"
    assert re.fullmatch(r"building mini zoo: 100/200 models \(50%\), elapsed \d\d:\d\d, "
                        r"ETA \d\d:\d\d", lines[5])


def test_units_only_and_a_heartbeat():
    log = io.StringIO()
    with progress_bar(10, "statnn", "epoch", stream=log, line_every=None) as bar:
        bar.update(3)  # no tenth is announced
        bar.write("statnn seed 0 (1/2): test tau 0.5000, best epoch 3, 1 s")
    assert len(log.getvalue().splitlines()) == 2
    log = io.StringIO()
    with progress_bar(None, "downloading 2 shards", "B", stream=log, heartbeat_s=0) as bar:
        bar.set_postfix(shard="a")
        bar.update(3 * 2**20)
    assert log.getvalue().splitlines()[-1].startswith(
        "downloading 2 shards: 3.0 MiB, elapsed 00:00, shard=a")


def test_disabled_prints_nothing_and_a_terminal_gets_a_bar(monkeypatch):
    log = io.StringIO()
    with progress_bar(5, "x", enabled=False, stream=log) as bar:
        bar.update(5)
        bar.write("done")
    assert log.getvalue() == "" and bar.n == 5 and bar.eta() is None
    term = FakeTerminal()
    assert use_bars(term) and not use_bars(io.StringIO())
    with progress_bar(5, "x", stream=term) as bar:
        bar.update(2)
        bar.n = 4
        bar.refresh()
    assert "\r" in term.getvalue() and "4/5" in term.getvalue()
    monkeypatch.setenv(PROGRESS_ENV, "lines")
    assert not use_bars(term)
    monkeypatch.setenv(PROGRESS_ENV, "bars")
    assert use_bars(io.StringIO())


def test_the_build_and_the_synthetic_writer_log_lines(tmp_path, capsys):
    with build_progress(get_preset("tiny"), 24, 8, True) as bar:
        bar.update(16)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "building tiny zoo: 8/24 models (33%), elapsed 00:00"
    assert lines[-1].startswith("building tiny zoo: 24/24 models (100%)")
    config = ZooConfig("progress-test", num_models=12, hidden=4, max_digits=1, steps=10,
                       n_test=20, n_train_pool=30, group_size=4)
    write_synthetic_zoo(tmp_path / "zoo", config, progress=True)
    err = capsys.readouterr().err
    clean(err)
    assert re.match(r"writing synthetic zoo: (\d+)/\1 shards \(100%\)", err.splitlines()[-1])


def test_format_seconds():
    assert format_seconds(61.4) == "01:01" and format_seconds(3725) == "1:02:05"
