"""scripts/gaps.py: the board's questions (UNF - STATNN, best weight-space method minus
each metadata reference, network readers minus weights) with the board's own paired
intervals."""

from __future__ import annotations

import numpy as np

from benchmarks.board import compare_records, leaderboard_frame
from benchmarks.results import result_filename, zoo_info
from scripts.gaps import table_gaps
from tests.fixtures.records import scored_record


def test_each_gap_is_the_boards_paired_comparison(bench_test):
    zoo = zoo_info(bench_test)
    labels = np.asarray(bench_test.labels, np.float64)
    noisy = labels + np.array([0.3, -0.2, 0.1, 0.0, -0.1, 0.2])
    records = [scored_record(zoo, "unf", "weights", noisy, bench_test),
               scored_record(zoo, "statnn", "weights", labels, bench_test),
               scored_record(zoo, "hparams", "metadata", labels[::-1], bench_test),
               scored_record(zoo, "probing", "function", labels, bench_test)]
    by_file = {result_filename(r): r for r in records}
    gaps = {(g["a"], g["b"]): g for g in table_gaps(leaderboard_frame(records), by_file)}
    assert set(gaps) == {("unf", "statnn"), ("statnn", "hparams"), ("probing", "statnn")}
    expected = compare_records(records[0], records[1])
    assert (gaps["unf", "statnn"]["difference"], gaps["unf", "statnn"]["low"]) == \
        expected[:2]
    assert gaps["statnn", "hparams"]["difference"] > 0


def test_a_pair_asked_for_is_reported_where_the_table_has_both(bench_test):
    zoo = zoo_info(bench_test)
    labels = np.asarray(bench_test.labels, np.float64)
    records = [scored_record(zoo, "unf", "weights", labels, bench_test),
               scored_record(zoo, "hparams", "metadata", labels[::-1], bench_test)]
    by_file = {result_filename(r): r for r in records}
    frame = leaderboard_frame(records)
    asked = table_gaps(frame, by_file, [("unf", "hparams"), ("deep-sets", "hparams")])
    assert [(g["a"], g["b"]) for g in asked] == [("unf", "hparams")]  # no deep-sets record
    assert asked[0]["difference"] == compare_records(records[0], records[1])[0] > 0
