"""``leaderboard/index.html``: the static web leaderboard (:mod:`benchmarks.web_board`).

The page is checked as text (escaping, determinism, nothing fetched from the network,
the zoo headings, older zoos and the paper's reference rows), as written by
``tinyzoo leaderboard`` (left untouched by a malformed record), and in a real headless
Chromium: the rows of each table, and sorting by clicking a column header.
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from benchmarks.board import leaderboard_frame
from benchmarks.leaderboard import forest_figures
from benchmarks.results import write_result, zoo_info
from benchmarks.web_board import render_html
from tests.benchmarks import browser
from tests.fixtures.cli import cli
from tests.fixtures.records import PNG_MAGIC, builtin_record, scored_record
from zoo_data.common.atomic import atomic_write
from zoo_data.rnn.presets import PRESETS


def _board_records(test) -> list[dict]:
    """One zoo: four weight-space rows (one with an undefined tau) and a metadata
    reference, with test taus 1, 13/15, -1, undefined and 11/15."""
    zoo = zoo_info(test)
    actual = np.asarray(test.labels, np.float64)
    order = np.argsort(actual)
    one_swap, two_swaps = actual.copy(), actual.copy()
    one_swap[order[[0, 1]]] = one_swap[order[[1, 0]]]
    two_swaps[order[[0, 1]]] = two_swaps[order[[1, 0]]]
    two_swaps[order[[4, 5]]] = two_swaps[order[[5, 4]]]
    return [
        scored_record(zoo, "exact", "weights", actual, test, "Exact"),
        scored_record(zoo, "one-swap", "weights", one_swap, test, "One swap"),
        scored_record(zoo, "reversed", "weights", 1 - actual, test, "Reversed"),
        scored_record(zoo, "flat", "weights", np.full(len(actual), 0.5), test, "Flat"),
        scored_record(zoo, "hparams", "metadata", two_swaps, test, "Hyperparameters only"),
    ]


def test_the_page_is_escaped_deterministic_and_self_contained(bench_test) -> None:
    records = _board_records(bench_test)
    records[0]["display_name"] = '<script>alert("x")</script> & co'
    frame = leaderboard_frame(records)
    page = render_html(frame, "leaderboard/results")
    assert page == render_html(leaderboard_frame(copy.deepcopy(records)),
                               "leaderboard/results")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert page.count("<script>") == 1 and page.count("<table") == 1
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing remote
    assert "@import" not in page and "url(" not in page
    sha8 = bench_test.manifest_sha256[:8]
    assert f'href="plots/bench-test-{sha8}__exact.png"' in page
    assert ("<h2>bench-test<span class=\"meta\">60 models · 6 test · manifest sha256 "
            f"<code>{sha8}</code></span></h2>") in page
    assert "from 5 result records in <code>leaderboard/results</code> on 1 zoo;" in page
    for header in ("rank", "method", "section", "reads", "test τ", "CI low", "CI high",
                   "Δ vs row above", "gain over metadata", "val τ", "seeds", "params"):
        assert f">{header}</th>" in page
    without = render_html(frame.drop(columns=[c for c in frame.columns
                                              if c.startswith("vs_above")]), "r")
    assert ">Δ vs row above</th>" not in without and ">gain over metadata</th>" in without
    empty = render_html(leaderboard_frame([]), "nowhere")
    assert "No results yet: <code>nowhere</code> holds no result records" in empty
    assert "<table" not in empty


def test_older_zoos_and_the_papers_reference_rows(bench_test) -> None:
    bench = zoo_info(bench_test)
    paper = {**copy.deepcopy(bench), "preset": "paper", "num_models": 10_000,
             "config_fingerprint": PRESETS["paper"].fingerprint(),
             "manifest_sha256": "cd" * 32, "rows_per_model": 3,
             "splits": {"train": 8000, "val": 1000, "test": 1000}}
    older = {**copy.deepcopy(bench), "preset": "mini", "config_fingerprint": "0" * 16,
             "manifest_sha256": "ef" * 32}
    page = render_html(leaderboard_frame([
        builtin_record(older, "unf", [0.5], bench_test),
        builtin_record(paper, "unf", [0.95, 0.96], bench_test),
    ]), "results")
    assert page.count("<table") == 2
    heading = page.index("10,000 models × 3 checkpoints · 1,000 test models, 3,000 test rows")
    assert heading < page.index("<h2>Older zoos</h2>") < page.index(
        "<h2>mini <span class=\"badge warn\">older zoo: not the current preset's config"
        "</span>")
    paper_table = page[heading:page.index("<h2>Older zoos</h2>")]
    assert paper_table.count('<span class="badge paper">paper (reference)</span>') == 3
    assert paper_table.count('class="section-paper') == 3
    assert "Table 1 of Zhou et al. (2024)" in paper_table


def test_a_malformed_record_changes_no_output_file(capsys, tmp_path, bench_test) -> None:
    results, out_dir = tmp_path / "results", tmp_path / "board"
    write_result(builtin_record(zoo_info(bench_test), "unf", [0.7], bench_test), results)
    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results),
                         "--out", str(out_dir))
    assert code == 0, err
    assert f"{out_dir / 'index.html'};" in out
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns)
              for p in out_dir.rglob("*") if p.is_file()}
    assert {p.name for p in before} >= {"index.html", "LEADERBOARD.md", "leaderboard.csv"}
    assert "UNF</a>" in (out_dir / "index.html").read_text()

    (results / "broken.json").write_text('{"schema_version": 1,')
    code, out, err = cli(capsys, "leaderboard", "--results-dir", str(results),
                         "--out", str(out_dir))
    assert code == 2 and out == ""
    assert err.startswith(f"tinyzoo: error: {results / 'broken.json'}: not valid JSON")
    assert len(err.splitlines()) == 1
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns)
             for p in out_dir.rglob("*") if p.is_file()}
    assert after == before  # nothing written, no temporary file left

    (results / "broken.json").unlink()  # and a re-run gives the same bytes
    assert cli(capsys, "leaderboard", "--results-dir", str(results),
               "--out", str(out_dir))[0] == 0
    assert (out_dir / "index.html").read_bytes() == before[out_dir / "index.html"][0]


# --------------------------------------------------------------------------- browser

needs_browser = pytest.mark.skipif(browser.missing() is not None,
                                   reason=f"no headless browser: {browser.missing()}")


def _rows(driver) -> list[dict]:
    return driver.execute_script("""
        return Array.from(document.querySelectorAll("table.board tbody tr")).map(
            tr => ({method: tr.dataset.method, name: tr.cells[1].textContent.trim(),
                    rank: tr.cells[0].textContent.trim()}));""")


def _click(driver, label: str) -> str:
    from selenium.webdriver.common.by import By

    header = driver.find_element(
        By.XPATH, f'//table[contains(@class, "board")]//th[text()="{label}"]')
    header.click()
    return header.get_attribute("aria-sort")


@needs_browser
def test_the_page_in_headless_chromium_sorts_by_a_clicked_column(tmp_path, bench_test):
    page = tmp_path / "board" / "index.html"
    page.parent.mkdir()
    frame = leaderboard_frame(_board_records(bench_test))
    figures = forest_figures(frame)
    assert len(figures) == 1  # one table, one forest plot
    atomic_write(page, render_html(frame, "results", figures).encode())
    with browser.headless_chromium() as driver:
        driver.get(page.as_uri())
        assert driver.title == "Tiny RNN Zoo leaderboard"
        rows = _rows(driver)
        assert [r["method"] for r in rows] == ["exact", "one-swap", "reversed", "flat",
                                               "hparams"]
        assert [r["name"] for r in rows] == ["Exact", "One swap", "Reversed", "Flat",
                                             "Hyperparameters only"]
        assert [r["rank"] for r in rows] == ["1", "2", "3", "—", "1"]

        assert _click(driver, "test τ") == "ascending"  # numbers; undefined last
        assert [r["method"] for r in _rows(driver)] == ["reversed", "hparams", "one-swap",
                                                        "exact", "flat"]
        assert _click(driver, "test τ") == "descending"  # undefined still last
        assert [r["method"] for r in _rows(driver)] == ["exact", "one-swap", "hparams",
                                                        "reversed", "flat"]
        assert _click(driver, "method") == "ascending"  # text
        assert [r["method"] for r in _rows(driver)] == ["exact", "flat", "hparams",
                                                        "one-swap", "reversed"]
        headers = driver.execute_script("""return Array.from(document.querySelectorAll(
            "table.board th")).map(th => th.getAttribute("aria-sort"));""")
        assert headers.count("none") == len(headers) - 1  # one sorted column only

        assert driver.execute_script(  # nothing was fetched, from anywhere
            "return performance.getEntriesByType('resource').length") == 0
        figures = driver.execute_script("""return Array.from(document.querySelectorAll(
            "section.zoo img.forest")).map(img => [img.complete, img.naturalWidth]);""")
        assert len(figures) == 1 and all(done and width > 0 for done, width in figures)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        shot = browser.full_page_screenshot(driver, tmp_path / "board.png")
    assert shot.read_bytes().startswith(PNG_MAGIC)
