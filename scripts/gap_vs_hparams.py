"""Each weight-space method's gain over the ``hparams`` reference on a zoo's board, with
its paired 95% interval: the measure of whether a zoo's weights tell more than its
design (the board itself compares with the best metadata reference, which may be the
train loss).

    python -m scripts.gap_vs_hparams small-v2-68b64df5 small-e1e3e85c

Reads the committed records in ``leaderboard/results`` (``<zoo>__<method>.json``) and
compares each with ``<zoo>__hparams.json`` on the same test rows, resampling models
(:func:`benchmarks.significance.compare`, clusters for zoos with checkpoints).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.board import record_test_predictions
from benchmarks.results import test_clusters
from benchmarks.significance import compare

#: Methods that read the weights, in board order.
WEIGHT_SPACE = ("unf", "statnn", "deep-sets", "probegen", "linear-stats")


def gaps(zoo: str, results: Path) -> list[dict]:
    """``[{"zoo", "method", "gain", "low", "high"}]`` for every weight-space record of
    ``zoo`` (a ``preset-sha8`` key) found in ``results``."""
    reference = json.loads((results / f"{zoo}__hparams.json").read_text())
    ref = record_test_predictions(reference)
    rows = []
    for method in WEIGHT_SPACE:
        path = results / f"{zoo}__{method}.json"
        if not path.exists():
            continue
        record = json.loads(path.read_text())
        pred = record_test_predictions(record)
        result = compare(pred[0], ref[0], pred[1],
                         clusters=test_clusters(record["zoo"], pred[2]))
        rows.append({"zoo": zoo, "method": method, "gain": result.difference,
                     "low": result.low, "high": result.high})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoos", nargs="+", help="board keys, e.g. small-v2-68b64df5")
    parser.add_argument("--results", default="leaderboard/results")
    args = parser.parse_args(argv)
    for zoo in args.zoos:
        for row in gaps(zoo, Path(args.results)):
            print(f"{row['zoo']} {row['method']}: {row['gain']:+.4f} "
                  f"[{row['low']:+.4f}, {row['high']:+.4f}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
