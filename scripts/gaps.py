"""The gaps a reader of the board asks about, with their paired 95% intervals.

    python -m scripts.gaps [--results-dir leaderboard/results] [--json FILE] [--pair A B ...]

For every table of the board (a zoo under one protocol and split scheme), from the
committed records' test predictions (the board's paired bootstrap,
:func:`benchmarks.significance.compare`):

- UNF minus STATNN (the paper's claim is that it is positive);
- the best weight-space method minus the hyperparameters-only reference;
- the best weight-space method minus the final-train-loss reference;
- the best method that runs the network (Probing, the probe oracle) minus the best
  weight-space method;
- any other pair asked for with ``--pair A B`` (method names, repeatable), in every
  table that has both.

A gap whose interval holds 0 is marked ``≈`` (not significant at 5%). A method missing
from a table gives no row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.board import TABLE_KEYS, leaderboard_frame
from benchmarks.board import compare_records as paired  # the board's own comparison
from benchmarks.results import read_results, result_filename


def table_gaps(frame, by_file, extra: list[tuple[str, str]] = ()) -> list[dict]:
    """One dict per (table, gap) of ``frame``'s tables; ``extra``: more ``(a, b)`` pairs."""
    out = []
    for (zoo, _, protocol), rows in frame.groupby(TABLE_KEYS, sort=False):
        rows = rows[rows["result_file"].notna()]
        record = {r.method: by_file[r.result_file] for r in rows.itertuples()}
        tau = {r.method: r.test_tau_mean for r in rows.itertuples()}
        weights = [m for m in record if record[m]["reads"] == "weights"
                   and m not in ("constant",) and tau[m] == tau[m]]
        function = [m for m in record if record[m]["reads"] == "function" and tau[m] == tau[m]]
        best_w = max(weights, key=lambda m: tau[m]) if weights else None
        best_f = max(function, key=lambda m: tau[m]) if function else None
        pairs = [("unf", "statnn"), (best_w, "hparams"), (best_w, "train-loss"),
                 (best_f, best_w)]
        pairs += [p for p in extra if p not in pairs]
        for a, b in pairs:
            if a is None or b is None or a not in record or b not in record:
                continue
            result = paired(record[a], record[b])
            if result is None:
                continue
            diff, low, high, significant = result
            out.append({"zoo": zoo, "protocol": protocol, "a": a, "b": b,
                        "tau_a": tau[a], "tau_b": tau[b], "difference": diff, "low": low,
                        "high": high, "significant": significant})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=Path("leaderboard/results"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pair", nargs=2, action="append", default=[], metavar=("A", "B"),
                        help="Also report method A minus method B (repeatable).")
    args = parser.parse_args(argv)
    records = read_results(args.results_dir)
    gaps = table_gaps(leaderboard_frame(records), {result_filename(r): r for r in records},
                      [tuple(p) for p in args.pair])
    for g in gaps:
        mark = "" if g["significant"] else "≈ "
        print(f"{g['zoo']:<28} {g['a']:>12} - {g['b']:<12} {mark}{g['difference']:+.4f} "
              f"[{g['low']:+.4f}, {g['high']:+.4f}]  ({g['tau_a']:.4f} vs {g['tau_b']:.4f}; "
              f"{g['protocol']})")
    if args.json:
        args.json.write_text(json.dumps(gaps, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
