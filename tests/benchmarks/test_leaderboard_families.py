"""The leaderboard with two zoo families: a ``family`` column, one section per family
(Tiny RNN Zoo first), NFN's Table 2 as reference rows on the Small CNN Zoo presets it
reports on, and the Tiny RNN Zoo's rows exactly as without the other family."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from benchmarks.board import CSV_COLUMNS, REFERENCE_KIND, leaderboard_frame
from benchmarks.leaderboard import render_markdown, write_leaderboard
from benchmarks.results import write_result, zoo_info
from benchmarks.web_board import render_html
from tests.fixtures.records import builtin_record, scored_record, table_rows
from zoo_data.families.registry import family_named

RNN, CNN = "tiny-rnn-zoo", "small-cnn-zoo"
NFN_NAMES = ["NFN-HNP (NFN paper, Table 2)", "NFN-NP (NFN paper, Table 2)",
             "STATNN (NFN paper, Table 2)"]


def _cnn_zoo(test, preset: str, sha: str) -> dict:
    """The ``zoo`` block of a Small CNN Zoo record (the bench zoo's test ids)."""
    return {**copy.deepcopy(zoo_info(test)), "family": CNN, "preset": preset,
            "config_fingerprint": "c" * 16, "manifest_sha256": sha * 32}


def _rnn_records(test) -> list[dict]:
    """The bench zoo (two weight-space rows and a metadata reference), a ``paper`` zoo
    (with Table 1's reference rows) and an older ``mini`` zoo."""
    bench = zoo_info(test)
    paper = {**copy.deepcopy(bench), "preset": "paper", "num_models": 10_000,
             "config_fingerprint": family_named(RNN).current_fingerprint("paper"),
             "manifest_sha256": "cd" * 32,
             "splits": {"train": 8000, "val": 1000, "test": 1000}}
    older = {**copy.deepcopy(bench), "preset": "mini", "config_fingerprint": "0" * 16,
             "manifest_sha256": "ef" * 32}
    actual = np.asarray(test.labels, np.float64)
    return [
        scored_record(bench, "exact", "weights", actual, test),
        scored_record(bench, "reversed", "weights", 1 - actual, test),
        scored_record(bench, "hparams", "metadata", actual ** 2 + 0.1 * (1 - actual), test),
        builtin_record(paper, "unf", [0.95, 0.96], test),
        builtin_record(older, "unf", [0.5], test),
    ]


def _cnn_records(test) -> list[dict]:
    """NFN's split of CIFAR-10 (two rows), ours of CIFAR-10, MNIST and SVHN."""
    actual = np.asarray(test.labels, np.float64)
    cifar = _cnn_zoo(test, "small-cnn-cifar10", "a1")
    return [
        scored_record(_cnn_zoo(test, "small-cnn-mnist", "a4"), "statnn", "weights", actual, test),
        scored_record(_cnn_zoo(test, "small-cnn-svhn_cropped", "a3"), "statnn", "weights",
                actual, test),
        scored_record(cifar, "reversed", "weights", 1 - actual, test),
        scored_record(_cnn_zoo(test, "small-cnn-cifar10-runs", "a2"), "statnn", "weights",
                actual, test),
        scored_record(cifar, "statnn", "weights", actual, test),
    ]


@pytest.fixture
def records(bench_test) -> tuple[list[dict], list[dict]]:
    return _rnn_records(bench_test), _cnn_records(bench_test)


def test_the_frame_has_a_family_column_and_groups_rows_by_family(records) -> None:
    rnn, cnn = records
    frame = leaderboard_frame(cnn + rnn)  # given in the "wrong" order
    assert list(frame.columns) == list(CSV_COLUMNS) and CSV_COLUMNS[0] == "family"
    families = frame["family"].tolist()
    n_rnn = len(rnn) + len(family_named(RNN).published_results("paper").rows)
    assert families == [RNN] * n_rnn + [CNN] * (len(families) - n_rnn)
    assert list(dict.fromkeys(frame["preset"])) == [
        "paper", "bench-test", "mini",  # current RNN zoos, then the older one
        "small-cnn-cifar10", "small-cnn-cifar10-runs", "small-cnn-svhn_cropped",
        "small-cnn-mnist"]  # NFN's split before ours; datasets in the import's order
    assert frame.loc[frame["preset"] == "mini", "older_zoo"].all()
    assert not frame.loc[frame["family"] == CNN, "older_zoo"].any()


def test_nfn_table2_rows_on_the_presets_nfn_reports_on_only(records) -> None:
    frame = leaderboard_frame(sum(records, []))
    cifar = frame[frame["preset"] == "small-cnn-cifar10"]
    assert cifar["method"].tolist()[:2] == ["statnn", "reversed"]
    assert cifar["rank"].tolist()[:2] == [1, 2]
    assert cifar["vs_above_diff"].iloc[1] == pytest.approx(-2.0)
    reference = cifar[cifar["kind"] == REFERENCE_KIND]
    assert reference["display_name"].tolist() == NFN_NAMES
    assert reference["test_tau_mean"].tolist() == [0.934, 0.922, 0.915]
    assert reference["test_tau_std"].tolist() == [0.001, 0.001, 0.002]
    assert (reference["section"] == "paper").all() and reference["rank"].isna().all()
    assert (reference["family"] == CNN).all()
    assert reference["method"].is_unique and "paper-unf" not in set(reference["method"])
    svhn = frame[(frame["preset"] == "small-cnn-svhn_cropped")
                 & (frame["kind"] == REFERENCE_KIND)]
    nfn = family_named(CNN).published_results("small-cnn-svhn_cropped").rows
    assert svhn["test_tau_mean"].tolist() == [nfn[n][0] for n in ("NFN-HNP", "NFN-NP",
                                                                   "STATNN")]
    assert svhn["test_tau_mean"].tolist() == [0.931, 0.856, 0.843]
    with_references = set(frame.loc[frame["kind"] == REFERENCE_KIND, "preset"])
    assert with_references == {"paper", "small-cnn-cifar10", "small-cnn-svhn_cropped"}
    paper = frame[(frame["preset"] == "paper") & (frame["kind"] == REFERENCE_KIND)]
    assert paper["display_name"].tolist() == ["UNF", "STATNN", "Deep Sets"]


def test_the_tiny_rnn_zoos_rows_are_those_of_a_board_without_cnns(records) -> None:
    rnn, cnn = records
    alone = leaderboard_frame(copy.deepcopy(rnn))
    mixed = leaderboard_frame(cnn + rnn)
    assert set(alone["family"]) == {RNN}
    pd.testing.assert_frame_equal(
        mixed[mixed["family"] == RNN].reset_index(drop=True), alone)
    bench = alone[alone["preset"] == "bench-test"]
    assert bench["method"].tolist() == ["exact", "reversed", "hparams"]
    assert bench["rank"].tolist() == [1, 2, 1]
    assert bench["best_metadata_method"].tolist()[:2] == ["hparams", "hparams"]


def test_markdown_has_one_section_per_family_rnn_first(tmp_path, records,
                                                     labels_unchecked) -> None:
    rnn, cnn = records
    for record in cnn + rnn:
        write_result(record, tmp_path / "results")
    report = write_leaderboard(tmp_path / "results", tmp_path / "board")
    assert report.num_zoos == 7
    markdown = report.markdown.read_text()
    lines = markdown.splitlines()
    assert [line for line in lines if line.startswith("# ")] == [
        "# Leaderboard", "# Tiny RNN Zoo", "# Small CNN Zoo"]
    rnn_at, cnn_at = markdown.index("\n# Tiny RNN Zoo\n"), markdown.index("\n# Small CNN Zoo\n")
    older_at = markdown.index("\n## Older zoos\n")
    assert rnn_at < markdown.index("## paper: ") < older_at < markdown.index("## mini: ")
    assert markdown.index("## mini: ") < cnn_at < markdown.index("## small-cnn-cifar10: ")
    headings = [line.split(":")[0] for line in lines if line.startswith("## small-cnn")]
    assert headings == ["## small-cnn-cifar10", "## small-cnn-cifar10-runs",
                        "## small-cnn-svhn_cropped", "## small-cnn-mnist"]

    cifar = table_rows(markdown, "## small-cnn-cifar10: ")
    assert [row[1].split("](")[0] for row in cifar[:2]] == ["[STATNN", "[REVERSED"]
    assert [row[1] for row in cifar[2:]] == [f"{n} — *{REFERENCE_KIND}*" for n in NFN_NAMES]
    assert [row[3] for row in cifar[2:]] == ["0.9340 ± 0.0010", "0.9220 ± 0.0010",
                                             "0.9150 ± 0.0020"]
    assert [row[0] for row in cifar] == ["1", "2", "—", "—", "—"]
    assert [row[3] for row in table_rows(markdown, "## small-cnn-svhn_cropped: ")][1:] == [
        "0.9310 ± 0.0050", "0.8560 ± 0.0010", "0.8430 ± 0.0000"]
    for preset in ("small-cnn-cifar10-runs", "small-cnn-mnist"):
        assert len(table_rows(markdown, f"## {preset}: ")) == 1  # no reference rows
    rnn_part, cnn_part = markdown[rnn_at:cnn_at], markdown[cnn_at:]
    assert "Table 1 of Zhou et al. (2024)" in rnn_part and "NFN" not in rnn_part
    assert "Table 1 of" not in cnn_part
    assert cnn_part.count("are Table 2 of Zhou et al. (2023)") == 2

    csv = pd.read_csv(report.csv)
    assert csv.columns[0] == "family"
    assert csv["family"].tolist() == leaderboard_frame(cnn + rnn)["family"].tolist()


def test_the_rnn_section_reads_as_on_a_board_without_cnns(records) -> None:
    rnn, cnn = records
    alone = render_markdown(leaderboard_frame(copy.deepcopy(rnn)), "results")
    mixed = render_markdown(leaderboard_frame(cnn + rnn), "results")
    assert "# Small CNN Zoo" not in alone
    footer = "\n95% CI: percentile bootstrap"
    section = alone[alone.index("\n# Tiny RNN Zoo\n"):alone.index(footer)]
    assert section == mixed[mixed.index("\n# Tiny RNN Zoo\n"):mixed.index("\n# Small CNN")]
    only_cnn = render_markdown(leaderboard_frame(cnn), "results")
    assert "# Tiny RNN Zoo" not in only_cnn and "\n# Small CNN Zoo\n" in only_cnn


def test_the_web_page_groups_zoos_under_family_headings(records) -> None:
    rnn, cnn = records
    page = render_html(leaderboard_frame(cnn + rnn), "results")
    assert page == render_html(leaderboard_frame(copy.deepcopy(cnn + rnn)), "results")
    rnn_at = page.index('<h2 class="family" id="family-tiny-rnn-zoo">Tiny RNN Zoo</h2>')
    cnn_at = page.index('<h2 class="family" id="family-small-cnn-zoo">Small CNN Zoo</h2>')
    assert page.count('<h2 class="family"') == 2
    zoo = {p: page.index(f'<section class="zoo" id="zoo-{p}-') for p in (
        "paper", "bench-test", "mini", "small-cnn-cifar10", "small-cnn-cifar10-runs",
        "small-cnn-svhn_cropped", "small-cnn-mnist")}
    assert rnn_at < zoo["paper"] < zoo["bench-test"] < zoo["mini"] < cnn_at
    assert cnn_at < zoo["small-cnn-cifar10"] < zoo["small-cnn-cifar10-runs"] < zoo[
        "small-cnn-svhn_cropped"] < zoo["small-cnn-mnist"]
    nav = page[page.index("<nav>"):page.index("</nav>")]
    assert nav.index(">Tiny RNN Zoo</span>") < nav.index('href="#zoo-paper-') < nav.index(
        ">Small CNN Zoo</span>") < nav.index('href="#zoo-small-cnn-cifar10-a1')
    cifar = page[zoo["small-cnn-cifar10"]:zoo["small-cnn-cifar10-runs"]]
    assert cifar.count('<span class="badge paper">paper (reference)</span>') == 3
    for name in NFN_NAMES:
        assert f"{name} <span" in cifar
    assert "are Table 2 of Zhou et al. (2023)" in cifar
    runs = page[zoo["small-cnn-cifar10-runs"]:zoo["small-cnn-svhn_cropped"]]
    assert "badge paper" not in runs and "Zhou et al." not in runs
    assert "Table 1 of Zhou et al. (2024)" in page[rnn_at:cnn_at]
    alone = render_html(leaderboard_frame(copy.deepcopy(rnn)), "results")
    assert 'id="family-small-cnn-zoo"' not in alone and 'id="family-tiny-rnn-zoo"' in alone


def test_a_record_of_an_unregistered_family_comes_last_under_its_name(records,
                                                                      bench_test) -> None:
    """No family answers for it: its zoos sort by name after the registered families',
    its heading is its name, it is never an older zoo and carries no published rows (not
    even on a preset named ``paper``)."""
    rnn, cnn = records
    actual = np.asarray(bench_test.labels, np.float64)
    other = [scored_record({**_cnn_zoo(bench_test, preset, sha), "family": "other-zoo",
                            "config_fingerprint": "0" * 16}, "statnn", "weights", actual,
                           bench_test)
             for preset, sha in (("zeta", "b1"), ("paper", "b2"))]
    frame = leaderboard_frame(other + cnn + rnn)
    assert frame["family"].tolist()[-2:] == ["other-zoo"] * 2
    rows = frame[frame["family"] == "other-zoo"]
    assert rows["preset"].tolist() == ["paper", "zeta"]
    assert not rows["older_zoo"].any() and (rows["kind"] != REFERENCE_KIND).all()
    markdown = render_markdown(frame, "results")
    assert markdown.index("\n# Small CNN Zoo\n") < markdown.index("\n# other-zoo\n")
    assert "Table 1 of" not in markdown[markdown.index("\n# other-zoo\n"):]
    page = render_html(frame, "results")
    assert '<h2 class="family" id="family-other-zoo">other-zoo</h2>' in page
