"""Our validation-selected test tau beside the paper script's running maximum of test tau.

The paper's predictor script (google/learned_optimization,
``research/univ_nfn/gen_pred/train_pred.py``) logs, after every epoch, the best *test*
Kendall's tau seen so far; a table built from that log reports the running maximum of
test tau over epochs, which selects on the test set. Our protocol selects the epoch on
the validation split and reads the test labels once. This script trains a method under
the protocol and, outside it, also scores the test split after every epoch (through
``run_protocol``'s ``after_epoch`` hook), so both figures come from the same runs:

    python -m scripts.running_max --zoo data/zoos/small --method unf --seeds 5 \\
        --json docs/results/running_max_unf_small.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.metrics import kendall_tau
from benchmarks.protocol import run_protocol
from benchmarks.protocol_config import ProtocolConfig
from predictors.registry import load_predictor
from zoo_data.common.atomic import atomic_write, json_bytes
from zoo_data.zoo import open_local_zoo


def running_max(zoo_dir: str, method: str, seeds: int, epochs: int = 10) -> dict:
    """Per seed: the val-selected test tau, the test tau of every epoch and their
    running maximum; and both figures as mean ± sample std over seeds."""
    zoo = open_local_zoo(zoo_dir)
    test = zoo.with_split("test")
    labels = test.labels.astype(np.float64)
    runs = []
    for seed in range(seeds):
        predictor, _ = load_predictor(method)
        per_epoch: list[float] = []
        result = run_protocol(
            predictor, zoo, seed,
            ProtocolConfig(epochs=epochs, passes_per_epoch=1, patience=None),
            after_epoch=lambda _, trained, out=per_epoch: out.append(
                kendall_tau(trained.predict_zoo(test), labels)))
        runs.append({"seed": seed, "best_epoch": result.best_epoch,
                     "val_selected_test_tau": result.test["kendall_tau"],
                     "test_tau_per_epoch": per_epoch,
                     "running_max_test_tau": float(np.max(per_epoch))})
        print(f"seed {seed}: val-selected {result.test['kendall_tau']:.4f} (epoch "
              f"{result.best_epoch}), running max of test {max(per_epoch):.4f}", flush=True)

    def summary(key):
        values = np.array([r[key] for r in runs])
        return {"mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if len(values) > 1 else None}

    return {"zoo": str(zoo_dir), "preset": zoo.config.preset,
            "manifest_sha256": zoo.manifest_sha256, "method": method, "epochs": epochs,
            "runs": runs, "val_selected": summary("val_selected_test_tau"),
            "running_max": summary("running_max_test_tau")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", required=True)
    parser.add_argument("--method", default="unf")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--json", help="write the result to this file")
    args = parser.parse_args(argv)
    out = running_max(args.zoo, args.method, args.seeds, args.epochs)
    print(json.dumps({k: out[k] for k in ("val_selected", "running_max")}))
    if args.json:
        atomic_write(Path(args.json), json_bytes(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
