"""The least-squares yardstick of the ``hparams`` reference: SR fitted on the train split
by ordinary least squares on ``[1, l, l², l³, log bs, l log bs]`` (``l`` = log learning
rate, ``bs`` = batch size), then Kendall's tau of the fit on the test split; also the
tau of minus the final train loss. No training, no seeds: a closed-form check that the
board's ``hparams`` row (an MLP under the protocol) is at least as strong.

    python -m scripts.metadata_fit data/zoos/mini data/zoos/small \\
        --json docs/results/metadata_fit.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.metrics import kendall_tau
from zoo_data.common.atomic import atomic_write, json_bytes
from zoo_data.zoo import open_local_zoo


def _design(columns) -> np.ndarray:
    lr, bs = np.log(columns["learning_rate"]), np.log(columns["batch_size"])
    return np.stack([np.ones_like(lr), lr, lr**2, lr**3, bs, lr * bs], axis=1)


def metadata_fit(zoo_dir: str) -> dict:
    """``{"zoo", "num_test", "lstsq_cubic_tau", "minus_train_loss_tau"}`` of one zoo."""
    zoo = open_local_zoo(zoo_dir)
    train, test = zoo.with_split("train"), zoo.with_split("test")
    names = ("learning_rate", "batch_size")
    coef, *_ = np.linalg.lstsq(_design(train.columns(names)), train.labels, rcond=None)
    fitted = _design(test.columns(names)) @ coef
    loss = test.columns(("train_loss",))["train_loss"]
    return {"zoo": str(zoo_dir), "preset": zoo.config.preset,
            "manifest_sha256": zoo.manifest_sha256, "num_test": len(test),
            "lstsq_cubic_tau": kendall_tau(fitted, test.labels),
            "minus_train_loss_tau": kendall_tau(-loss, test.labels)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoos", nargs="+", help="zoo folders")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    rows = [metadata_fit(z) for z in args.zoos]
    for row in rows:
        print(f"{row['preset']} ({row['num_test']} test): least-squares cubic tau "
              f"{row['lstsq_cubic_tau']:.4f}, -train loss tau {row['minus_train_loss_tau']:.4f}")
    if args.json:
        atomic_write(Path(args.json), json_bytes({"rows": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
