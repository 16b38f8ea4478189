"""``tinyzoo leaderboard``: submissions and built-in results end to end into
LEADERBOARD.md, leaderboard.csv and plots; ranking, reference rows, empty and bad input."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from benchmarks.board import REFERENCE_KIND, leaderboard_frame
from benchmarks.provenance import publish_labels
from benchmarks.results import read_results, write_result, zoo_info
from tests.fixtures.cli import cli
from tests.fixtures.records import PNG_MAGIC, builtin_record, record_of_predictions, table_rows
from tests.fixtures.submissions import write_csv
from zoo_data.families.registry import RNN_FAMILY, family_named
from zoo_data.rnn.presets import PRESETS


def test_submissions_and_builtins_end_to_end(capsys, tmp_path, bench_zoo_dir,
                                             bench_test) -> None:
    results, out_dir = tmp_path / "results", tmp_path / "board"
    ids, sr = bench_test.model_ids.tolist(), bench_test.labels
    order = np.argsort(sr)
    good = sr.copy()
    worse = sr.copy()
    worse[order[[0, 1]]] = worse[order[[1, 0]]]  # one discordant pair
    submissions = {"perfect": good, "swapped": worse, "flat": np.full(6, 0.5),
                   "upside-down": 1 - sr}
    for name, values in submissions.items():
        csv = write_csv(tmp_path / f"{name}.csv", zip(ids, values.tolist(), strict=True))
        code, _, err = cli(capsys, "submit", "--predictions", str(csv), "--zoo",
                           str(bench_zoo_dir), "--name", name, "--results-dir", str(results))
        assert code == 0, err
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.95, 0.9, 0.925], bench_test),
                 results)

    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results),
                         "--out", str(out_dir))
    assert code == 0, err
    assert "5 results on 1 zoo" in out

    markdown = (out_dir / "LEADERBOARD.md").read_text()
    sha8 = bench_test.manifest_sha256[:8]
    heading = f"## bench-test: 60 models (6 test), manifest sha256 `{sha8}`"
    assert heading in markdown
    assert "| rank | method | reads | test τ (mean ± std) | 95% CI | running max of test τ | " \
           "Δ vs row above | gain over best metadata ref | val τ | Spearman | R² | MAE | " \
           "seeds | best at budget end | params | audit max \\|Δ\\| | wall time |" in markdown
    rows = table_rows(markdown, "## bench-test")
    names = [row[1] for row in rows]
    assert names == [
        f"[perfect (submission)](plots/bench-test-{sha8}__perfect.png)",
        f"[UNF](plots/bench-test-{sha8}__unf.png)",
        f"[swapped (submission)](plots/bench-test-{sha8}__swapped.png)",
        f"[upside-down (submission)](plots/bench-test-{sha8}__upside-down.png)",
        f"[flat (submission)](plots/bench-test-{sha8}__flat.png)",
    ]
    assert [row[0] for row in rows] == ["1", "2", "3", "4", "—"]
    perfect, unf, _, _, flat = rows
    assert perfect[3] == "1.0000" and perfect[8] == "—" and perfect[12] == "—"
    assert perfect[2] == "unknown" and unf[2] == "weights"
    assert unf[3] == "0.9111 ± 0.0770"  # 0.95, 0.9, 0.925 of 6 models: 1, 13/15, 13/15
    assert unf[5] == "—"  # no test curve in this record: no running max
    assert unf[8:] == ["0.7000 ± 0.0000", "0.9619", "-0.0038", "0.1944", "3",
                       f"[0/3](curves/bench-test-{sha8}.png)",  # the row links its curves
                       "12,345", "2.5e-07", "3.0 min"]
    assert flat[3] == "undefined" and flat[4] == "—"
    assert "paper (reference)" not in markdown  # not the paper preset

    frame = pd.read_csv(out_dir / "leaderboard.csv")
    assert list(frame["method"]) == ["perfect", "unf", "swapped", "upside-down", "flat"]
    assert frame["rank"].tolist()[:4] == [1, 2, 3, 4] and pd.isna(frame["rank"].iloc[4])
    assert frame["test_tau_mean"].iloc[0] == pytest.approx(1.0)
    assert frame["test_tau_mean"].iloc[3] == pytest.approx(-1.0)
    assert frame["test_tau_std"].iloc[1] == pytest.approx(np.std([1, 13 / 15, 13 / 15], ddof=1))
    assert frame["test_tau_mean"].iloc[2] == pytest.approx(13 / 15)  # 1 of 15 pairs swapped
    assert pd.isna(frame["test_tau_mean"].iloc[4])
    assert set(frame["zoo"]) == {f"bench-test-{sha8}"}
    assert set(frame["manifest_sha256"]) == {bench_test.manifest_sha256}
    assert frame["kind"].tolist() == ["submission", "builtin", "submission", "submission",
                                      "submission"]
    assert frame.loc[1, "param_count"] == 12345 and frame.loc[1, "seeds"] == 3

    plots = sorted((out_dir / "plots").iterdir())
    assert [p.name for p in plots] == sorted(f"bench-test-{sha8}__{m}.png" for m in
                                             [*submissions, "unf"])
    for plot in plots:
        assert plot.read_bytes().startswith(PNG_MAGIC)
    # the table at a glance: a forest plot beside the board, shown under the heading
    forest = out_dir / "forest" / f"bench-test-{sha8}.png"
    assert forest.read_bytes().startswith(PNG_MAGIC)
    assert f"![bench-test-{sha8}: test τ with 95% CI per method](forest/bench-test-{sha8}.png)" \
        in markdown
    assert set(frame["forest"]) == {f"forest/bench-test-{sha8}.png"}
    assert (out_dir / "index.html").read_text().count('<img class="forest"') == 1
    assert not [p for p in out_dir.rglob(".*")]  # no temporary files left


def test_table1_compares_with_the_figures_the_tiny_rnn_zoo_publishes() -> None:
    from benchmarks.table1 import paper_table1

    assert paper_table1() == {"unf": (0.8968, 0.0006), "statnn": (0.8839, 0.0007),
                              "deep-sets": (0.8306, None)}


def test_paper_preset_tables_carry_the_reference_rows(tmp_path, bench_test,
                                                     labels_unchecked) -> None:
    bench = zoo_info(bench_test)
    paper = {**copy.deepcopy(bench), "preset": "paper", "num_models": 10_000,
             "config_fingerprint": PRESETS["paper"].fingerprint(),
             "manifest_sha256": "cd" * 32,
             "splits": {"train": 8000, "val": 1000, "test": 1000}}
    records = [builtin_record(paper, "unf", [0.95, 0.96], bench_test),
               builtin_record(paper, "statnn", [0.5], bench_test),
               builtin_record(bench, "unf", [0.7], bench_test)]
    frame = leaderboard_frame(records)
    assert frame["zoo"].tolist()[:5] == ["paper-cdcdcdcd"] * 5  # the paper zoo first
    paper_rows = frame[frame["preset"] == "paper"]
    assert paper_rows["kind"].tolist() == ["builtin", "builtin"] + [REFERENCE_KIND] * 3
    assert paper_rows["display_name"].tolist() == ["UNF", "STATNN", "UNF", "STATNN",
                                                   "Deep Sets"]
    reference = paper_rows[paper_rows["kind"] == REFERENCE_KIND]
    assert reference["rank"].isna().all()
    table1 = family_named(RNN_FAMILY).published_results("paper").rows
    assert reference["test_tau_mean"].tolist() == [table1[n][0] for n in
                                                   ("UNF", "STATNN", "Deep Sets")]
    assert (frame[frame["preset"] == "bench-test"]["kind"] != REFERENCE_KIND).all()

    for record in records:
        write_result(record, tmp_path / "results")
    from benchmarks.leaderboard import write_leaderboard

    report = write_leaderboard(tmp_path / "results", tmp_path / "board")
    assert report.num_results == 3 and report.num_zoos == 2 and len(report.plots) == 3
    markdown = report.markdown.read_text()
    rows = table_rows(markdown, "## paper: 10,000 models (1,000 test), manifest sha256 "
                                "`cdcdcdcd`")
    assert [row[1] for row in rows][2:] == ["UNF — *paper (reference)*",
                                            "STATNN — *paper (reference)*",
                                            "Deep Sets — *paper (reference)*"]
    assert [row[3] for row in rows][2:] == ["0.8968 ± 0.0006", "0.8839 ± 0.0007", "0.8306"]
    assert [row[0] for row in rows] == ["1", "2", "—", "—", "—"]
    assert "Table 1 of Zhou et al. (2024)" in markdown
    assert "paper (reference)" not in "\n".join(
        markdown.split("## bench-test")[1].splitlines()[:6])


def test_tied_taus_share_a_rank(bench_test) -> None:
    zoo = zoo_info(bench_test)
    frame = leaderboard_frame([builtin_record(zoo, m, [t], bench_test)
                               for m, t in [("b", 0.5), ("a", 0.5), ("c", 0.9)]])
    assert frame["method"].tolist() == ["c", "a", "b"]
    assert frame["rank"].tolist() == [1, 2, 2]


def test_empty_results_say_no_results_yet(capsys, tmp_path) -> None:
    (tmp_path / "results").mkdir()
    for results in (tmp_path / "results", tmp_path / "missing"):
        out_dir = tmp_path / f"board-{results.name}"
        code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results),
                             "--out", str(out_dir))
        assert code == 0, err
        assert "no results yet" in out
        markdown = (out_dir / "LEADERBOARD.md").read_text()
        assert markdown.startswith("# Leaderboard\n")
        assert f"No results yet: `{results}` holds no result records" in markdown
        frame = pd.read_csv(out_dir / "leaderboard.csv")
        assert frame.empty and "test_tau_mean" in frame.columns


def test_a_malformed_record_fails_naming_the_file(capsys, tmp_path, bench_test) -> None:
    results = tmp_path / "results"
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.7], bench_test), results)
    (results / "broken.json").write_text('{"schema_version": 1,')
    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results),
                         "--out", str(tmp_path / "board"))
    assert code == 2 and out == ""
    assert err.startswith(f"tinyzoo: error: {results / 'broken.json'}: not valid JSON")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "board").exists()
    assert len(read_results(results.parent / "nothing-here")) == 0


def _record_with(zoo_block, method, reads, predicted_by_seed, test):
    return record_of_predictions(zoo_block, method, reads, predicted_by_seed, test)


def test_sections_significance_and_gain_over_the_metadata_reference(tmp_path, bench_test):
    """Weight-space rows first, references after; a gap with an interval holding 0 is
    marked ≈, and each weight-space row shows its gain over the best metadata row."""
    zoo = zoo_info(bench_test)
    actual = np.asarray(bench_test.labels, np.float64)
    order = np.argsort(actual)
    close = actual.copy()
    close[order[[2, 3]]] = close[order[[3, 2]]]  # one swapped pair
    records = [
        _record_with(zoo, "exact", "weights", [actual, actual], bench_test),
        _record_with(zoo, "exact-too", "weights", [2 * actual + 1], bench_test),
        _record_with(zoo, "reversed", "weights", [1 - actual], bench_test),
        _record_with(zoo, "hparams", "metadata", [close], bench_test),
        _record_with(zoo, "oracle", "function", [actual], bench_test),
    ]
    frame = leaderboard_frame(records)
    assert frame["section"].tolist() == ["weight-space"] * 3 + ["references"] * 2
    assert frame["method"].tolist() == ["exact", "exact-too", "reversed", "oracle", "hparams"]
    assert frame["rank"].tolist() == [1, 1, 3, 1, 2]
    rows = frame.set_index("method")
    assert rows.loc["exact-too", "vs_above_diff"] == 0  # the same ranking
    assert not rows.loc["exact-too", "vs_above_significant"]
    assert rows.loc["reversed", "vs_above_diff"] == pytest.approx(-2.0)
    assert rows.loc["reversed", "vs_above_significant"]
    assert pd.isna(rows.loc["oracle", "vs_above_diff"])  # first of its section
    assert (rows.loc[["exact", "exact-too", "reversed"], "best_metadata_method"]
            == "hparams").all()
    assert pd.isna(rows.loc["oracle", "gain_over_metadata_diff"])  # references: no gain
    gain = rows.loc["exact", "gain_over_metadata_diff"]
    assert gain == pytest.approx(1 - rows.loc["hparams", "test_tau_mean"])

    for record in records:
        write_result(record, tmp_path / "results")
    publish_labels(bench_test, tmp_path / "results")  # as bench and submit do
    from benchmarks.leaderboard import write_leaderboard

    markdown = write_leaderboard(tmp_path / "results", tmp_path / "board").markdown.read_text()
    assert markdown.index("[EXACT]") < markdown.index("**references (do not read weights, "
                                                      "or run the network)**")
    assert markdown.index("**references") < markdown.index("[HPARAMS]")
    exact_too = next(line for line in markdown.splitlines() if "[EXACT-TOO]" in line)
    assert "≈ +0.0000 [0.0000, 0.0000]" in exact_too


def test_a_zoo_of_another_config_than_its_presets_is_shown_as_older(tmp_path, bench_test):
    current = {**zoo_info(bench_test), "preset": "mini",
               "config_fingerprint": PRESETS["mini"].fingerprint(),
               "manifest_sha256": "ab" * 32}
    older = {**current, "config_fingerprint": "0" * 16, "manifest_sha256": "ef" * 32}
    for block in (older, current):
        write_result(builtin_record(block, "unf", [0.5], bench_test), tmp_path / "results")
    from benchmarks.leaderboard import write_leaderboard

    markdown = write_leaderboard(tmp_path / "results", tmp_path / "board").markdown.read_text()
    current_at = markdown.index("manifest sha256 `abababab`")
    older_at = markdown.index("manifest sha256 `efefefef` (older zoo")
    assert current_at < markdown.index("# Older zoos") < older_at


def test_a_reproduced_record_leaves_the_file_untouched(tmp_path, bench_test):
    record = builtin_record(zoo_info(bench_test), "unf", [0.5, 0.6], bench_test)
    path = write_result(record, tmp_path)
    before = path.read_bytes()
    again = copy.deepcopy(record)
    again["created"] = "2030-01-01T00:00:00+00:00"
    again["wall_time_s"] = 999.0
    again["runs"][0]["wall_time_s"] = 1.0
    again["environment"] = {**again["environment"], "git_revision": "f" * 40}
    assert write_result(again, tmp_path) == path and path.read_bytes() == before
    changed = copy.deepcopy(again)
    changed["runs"][1]["test"]["kendall_tau"] = 0.61
    write_result(changed, tmp_path)
    assert path.read_bytes() != before


def test_a_plot_of_a_record_no_longer_on_the_board_is_removed(tmp_path, bench_test):
    from benchmarks.leaderboard import write_leaderboard

    results, board = tmp_path / "results", tmp_path / "board"
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.9], bench_test), results)
    (board / "plots").mkdir(parents=True)
    stale = board / "plots" / "bench-test-00000000__unf.png"  # a re-keyed zoo's
    stale.write_bytes(PNG_MAGIC)
    report = write_leaderboard(results, board)
    assert not stale.exists() and [p.name for p in report.plots] == [
        f"bench-test-{bench_test.manifest_sha256[:8]}__unf.png"]


def test_figures_of_tables_no_longer_on_the_board_are_removed_but_data_scaling_is_kept(
        tmp_path, bench_test):
    from benchmarks.leaderboard import write_leaderboard

    results, board = tmp_path / "results", tmp_path / "board"
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.9], bench_test), results)
    old = "bench-test-00000000"  # a zoo since rebuilt: its table is gone
    for name in (f"forest/{old}.png", f"curves/{old}.png", f"curves/{old}-data-scaling.png"):
        (board / name).parent.mkdir(parents=True, exist_ok=True)
        (board / name).write_bytes(PNG_MAGIC)
    report = write_leaderboard(results, board)
    current = f"bench-test-{bench_test.manifest_sha256[:8]}"
    assert sorted(p.name for p in (board / "forest").iterdir()) == [f"{current}.png"]
    assert sorted(p.name for p in (board / "curves").iterdir()) == sorted(
        [f"{old}-data-scaling.png", *(p.name for p in report.curves)])
    again = write_leaderboard(results, board)  # a second render removes nothing it wrote
    assert (board / "forest" / f"{current}.png").is_file() and again.plots == report.plots


def test_a_zoos_data_scaling_figure_is_linked_when_it_is_there(tmp_path, bench_test):
    from benchmarks.leaderboard import write_leaderboard

    results, board = tmp_path / "results", tmp_path / "board"
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.9], bench_test), results)
    link = f"curves/bench-test-{bench_test.manifest_sha256[:8]}-data-scaling.png"
    assert "[Data scaling]" not in write_leaderboard(results, board).markdown.read_text()
    (board / link).write_bytes(PNG_MAGIC)  # scripts/data_scaling.py --plot wrote it
    report = write_leaderboard(results, board)
    assert f"[Data scaling]({link})." in report.markdown.read_text()
    assert f'<a href="{link}">Data scaling</a>' in report.html.read_text()
