"""Calibrate a zoo design for what the weights tell beyond its hyperparameters: build a
sample zoo of a config and compare the best weight-space predictor with the
hyperparameters-only reference under the benchmark's own protocol.

The sample is the zoo of the config with fewer models (``--models``), built by the
builder itself into ``--out`` (resumable: a re-run keeps finished shards and finished
predictor seeds). For every method and seed it runs :func:`benchmarks.run_protocol`
and reports the test Kendall tau; the *gap* is the best weight-space method's mean
test tau minus that of ``hparams`` (every sampled hyperparameter and, with checkpoints,
the step: :class:`predictors.references.HParams`). For example

    python -m scripts.weights_gap --preset mini --models 600 \\
        --set checkpoints=200,400,600,800 --set weight_decay=1e-3,1 \\
        --out /tmp/gap-mini-wd --json docs/results/calibration/gap_mini_wd.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from scripts.zoo_calibration import override
from zoo_data.archive.labels import sr_spread
from zoo_data.common.atomic import atomic_write, json_bytes
from zoo_data.rnn.presets import get_preset

#: The methods compared by default: the reference, then weight-space methods.
METHODS = ("hparams", "statnn", "deep-sets")
WEIGHT_SPACE = ("statnn", "deep-sets", "unf", "linear-stats", "probegen")


def weights_gap(config, out: Path, methods=METHODS, seeds: int = 2,
                partial: Path | None = None) -> dict:
    """Build ``config``'s zoo into ``out`` (or finish it), run ``methods`` for ``seeds``
    seeds each; returns the spread, per-method test taus and the gap (module docstring).
    With ``partial``, finished seeds are saved there and skipped by a re-run."""
    from benchmarks import run_protocol
    from predictors.registry import load_predictor
    from zoo_builder import build_zoo
    from zoo_data.zoo import open_local_zoo

    t0 = time.perf_counter()
    build_zoo(out, config, progress=True, workers=2)
    build_s = time.perf_counter() - t0
    zoo = open_local_zoo(out)
    meta = zoo.metadata
    key = {"config": config.to_dict(), "manifest_sha256": zoo.manifest_sha256}
    saved = {"key": key, "taus": {}}
    if partial is not None and partial.exists():
        previous = json.loads(partial.read_text())
        if previous.get("key") == key:
            saved = previous
    for method in methods:
        for seed in range(seeds):
            tag = f"{method}/{seed}"
            if tag in saved["taus"]:
                continue
            predictor, _ = load_predictor(method)
            result = run_protocol(predictor, zoo, seed=seed)
            saved["taus"][tag] = result.test["kendall_tau"]
            print(f"{tag}: test tau {saved['taus'][tag]:.4f} "
                  f"({result.wall_time_s:.0f} s)", flush=True)
            if partial is not None:
                atomic_write(partial, json_bytes(saved))
    taus = {m: [saved["taus"][f"{m}/{s}"] for s in range(seeds)] for m in methods}
    means = {m: float(np.mean(v)) for m, v in taus.items()}
    best = max((m for m in methods if m in WEIGHT_SPACE), key=means.get, default=None)
    final = meta[meta["step"] == config.steps]["test_sr"].to_numpy()
    return {
        "config": config.to_dict(), "manifest_sha256": zoo.manifest_sha256,
        "rows": len(zoo), "test_rows": len(zoo.with_split("test")),
        "build_s": round(build_s, 1),
        "spread_all_rows": sr_spread(meta["test_sr"].to_numpy()).summary(),
        "spread_final_step": sr_spread(final).summary(),
        "test_tau": taus, "mean_test_tau": means, "best_weight_space": best,
        "gap_vs_hparams": None if best is None or "hparams" not in means
        else means[best] - means["hparams"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--models", type=int, help="sample size (default: the preset's)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", required=True, help="folder of the sample zoo")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    config = override(get_preset(args.preset), args.set)
    if args.models:
        config = dataclasses.replace(config, num_models=args.models,
                                     group_size=min(config.group_size, args.models))
    partial = Path(args.json + ".partial") if args.json else None
    out = weights_gap(config, Path(args.out), tuple(args.methods.split(",")), args.seeds,
                      partial)
    print(json.dumps({k: out[k] for k in ("rows", "test_rows", "build_s", "spread_all_rows",
                                          "spread_final_step", "mean_test_tau",
                                          "gap_vs_hparams")}, indent=1))
    if args.json:
        atomic_write(Path(args.json), json_bytes(out))
        partial.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
