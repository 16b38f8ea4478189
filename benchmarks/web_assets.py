"""The web board's inline assets (:mod:`benchmarks.web_board`): its stylesheet
``STYLE`` and ``SCRIPT``, the click-to-sort JavaScript (numbers by their ``data-sort``
value, undefined values last in either direction, a second click reverses). Both are
inlined into ``index.html``, so the page fetches nothing.
"""

__all__ = ["SCRIPT", "STYLE"]

STYLE = """
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --head: #f6f8fa;
  --ref: #f7f9fc; --paper: #fff8e5; --accent: #0969da; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.45;
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1600px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 34px 0 10px; display: flex; flex-wrap: wrap;
  align-items: baseline; gap: 6px 12px; }
h2.family { font-size: 23px; margin-top: 46px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h2 .meta { font-size: 13px; font-weight: normal; color: var(--muted); }
p { margin: 6px 0; max-width: 1100px; }
.lede, .note, footer { color: var(--muted); }
nav { margin: 12px 0 0; display: flex; flex-wrap: wrap; gap: 6px; }
nav .family { font-weight: 600; margin-left: 8px; }
nav a { border: 1px solid var(--line); border-radius: 14px; padding: 2px 10px;
  font-size: 13px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--head); padding: 1px 4px; border-radius: 4px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; }
img.forest { display: block; max-width: 100%; height: auto; margin: 0.5em 0; }
table.board { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 9px; border-bottom: 1px solid var(--line); white-space: nowrap;
  vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
th { background: var(--head); font-size: 12px; text-align: right; cursor: pointer;
  user-select: none; position: sticky; top: 0; color: #3a4149; }
th.text, td.text { text-align: left; }
td.num { text-align: right; }
th:hover { background: #eaeef2; }
th::after { content: "\\2195"; color: #b7bfc7; margin-left: 4px; font-size: 11px; }
th[aria-sort="ascending"]::after { content: "\\25B2"; color: var(--accent); }
th[aria-sort="descending"]::after { content: "\\25BC"; color: var(--accent); }
tbody tr:hover td { background: #eef4fd; }
tr.section-references td { background: var(--ref); }
tr.section-paper td { background: var(--paper); }
table:not(.sorted) tr.section-start td { border-top: 2px solid #afb8c1; }
.main { font-weight: 600; }
.pm, .ci { color: var(--muted); font-weight: normal; }
.ci { font-size: 11.5px; }
.ns { color: var(--muted); }
.tag, .badge { display: inline-block; font-size: 11px; border-radius: 10px;
  padding: 0 7px; border: 1px solid var(--line); color: var(--muted); background: #fff; }
.tag.weight-space { color: #1a7f37; border-color: #aceebb; background: #f0fff4; }
.tag.references { color: #6639ba; border-color: #d8b9ff; background: #fbf7ff; }
.tag.paper, .badge.paper { color: var(--warn); border-color: #f2cc60; background: #fff8c5; }
.badge.warn { color: var(--warn); border-color: #f2cc60; background: #fff8c5;
  font-weight: normal; }
.older { margin-top: 44px; padding-top: 10px; border-top: 3px double var(--line); }
footer { margin-top: 32px; font-size: 13px; }
"""

SCRIPT = """
(function () {
  "use strict";
  function key(row, col, numeric) {
    var raw = row.cells[col].getAttribute("data-sort") || "";
    if (numeric) { return raw === "" ? NaN : parseFloat(raw); }
    return raw.toLowerCase();
  }
  function sortTable(table, th, col) {
    var numeric = th.getAttribute("data-type") === "number";
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    var sign = dir === "ascending" ? 1 : -1;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, col, numeric), y = key(b, col, numeric);
      var mx = numeric ? isNaN(x) : x === "", my = numeric ? isNaN(y) : y === "";
      var order = +a.getAttribute("data-order") - +b.getAttribute("data-order");
      if (mx || my) { return mx && my ? order : (mx ? 1 : -1); }
      if (x < y) { return -sign; }
      if (x > y) { return sign; }
      return order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.classList.add("sorted");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.board"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortTable(table, th, col); });
    });
  });
}());
"""
