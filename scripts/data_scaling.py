"""Data-scaling curves of a zoo's board: test tau against training models, one figure.

    python -m scripts.data_scaling --zoo data/zoos/small-v2 --sizes 100 200 400 \
        --seeds 3 --json docs/results/data_scaling_small-v2.json \
        --plot leaderboard/curves/small-v2-a8f43de8-data-scaling.png

The figure's name is the board's (``curves/<zoo>-data-scaling.png``, the zoo as the
board names it): ``tinyzoo leaderboard`` links it from the zoo's table. Runs every
built-in method and reference (or ``--methods``) at each size with the
zoo's default protocol (:mod:`benchmarks.data_scaling`), resumable: run it again after
an interruption. The full training split is the board's own record (5 seeds) from
``--results-dir``, used when it was made by the same code and protocol on this zoo.
Prints one row per method and size, and the power-law projection (1 - tau = a n^-b) to the paper's
8,000 training models, marked as a projection. Run as a script, it re-runs itself under
tcmalloc where that is installed, as ``tinyzoo`` does (:mod:`tinyzoo.allocator`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.data_scaling import (
    PAPER_TRAIN_MODELS,
    plot_scaling,
    projection,
    run_scaling,
    summarise,
)
from benchmarks.fingerprint import code_fingerprint
from benchmarks.protocol_config import default_protocol
from benchmarks.results import read_results, zoo_key
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo


def board_records(results_dir: Path, zoo_record: dict, protocol: dict,
                  methods: list[str]) -> dict[str, dict]:
    """The board's records of ``methods`` on this zoo under this protocol and code."""
    found = {}
    if not results_dir.is_dir():
        return found
    for record in read_results(results_dir):
        if (record["method"] in methods and zoo_key(record["zoo"]) == zoo_key(zoo_record)
                and record["protocol"] == protocol
                and record.get("code_fingerprint") == code_fingerprint(record["method"])):
            found[record["method"]] = record
    return found


def main(argv: list[str] | None = None) -> int:
    from predictors.registry import BUILTINS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=list(BUILTINS))
    parser.add_argument("--results-dir", type=Path, default=Path("leaderboard/results"))
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--plot", type=Path, help="the figure (PNG)")
    args = parser.parse_args(argv)
    try:
        zoo = open_local_zoo(args.zoo)
        config = default_protocol(zoo.config.preset)
        data = run_scaling(zoo, args.methods, args.sizes, args.seeds, args.json, config)
        zoo_record = data["context"]["zoo"]
        board = board_records(args.results_dir, zoo_record, data["context"]["protocol"],
                              args.methods)
        labels = zoo.with_split("test").labels  # read once every run is over
        rows = summarise(data, labels, zoo_record, board)
    except TinyZooError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    projections = projection(rows)
    titles = {m: BUILTINS[m].display_name for m in args.methods if m in BUILTINS}
    print(f"{'method':<14} {'models':>6} {'seeds':>5} {'test tau':>9} {'95% CI':>17}")
    for r in rows:
        ci = f"[{r['low']:.3f}, {r['high']:.3f}]" if r["low"] is not None else "-"
        mean = f"{r['mean']:.4f}" if r["mean"] is not None else "undefined"
        print(f"{r['method']:<14} {r['train_models']:>6} {r['seeds']:>5} {mean:>9} "
              f"{ci:>17}" + ("  (board)" if r["from_board"] else ""))
    print(f"\nProjection to {PAPER_TRAIN_MODELS:,} training models (1 - tau = a n^-b "
          "fitted to the means above; an extrapolation, not a measurement):")
    for method, p in sorted(projections.items()):
        print(f"  {method:<14} {p['projected_tau']:.3f}  (b = {p['exponent']:.3f})")
    summary = {**data, "summary": rows, "projection": projections,
               "board_records": sorted(board)}
    atomic_write(args.json, json.dumps(summary, indent=1).encode())
    if args.plot:
        name = zoo_key(zoo_record)
        plot_scaling(rows, projections, titles,
                     f"{name}: test τ against training models (dotted: projection to "
                     f"{PAPER_TRAIN_MODELS:,}, not measured)", args.plot)
    return 0


if __name__ == "__main__":
    from tinyzoo.allocator import reexec_under_tcmalloc

    reexec_under_tcmalloc()  # as the command line does: same bits, fewer page faults
    raise SystemExit(main())
