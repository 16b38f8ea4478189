"""Peak memory and throughput of iterating a zoo split in batches (``Zoo.batches``).

Writes a synthetic zoo of the chosen preset's shape and schema if the folder does not
hold one yet (:func:`zoo_builder.synthetic.write_synthetic_zoo`; resumable), then, in a
fresh child process per case, loads the split with ``load_zoo`` and iterates it once in
batches, as a predictor's training epoch does. Reported per case:

- ``rss_after_import_mib``: resident memory once numpy, pyarrow, jax and the loader
  are imported (the floor any user of the package pays);
- ``peak_rss_mib``: the process's peak resident set (``ru_maxrss``, which counts every
  resident page, file-backed ones included) over the whole run;
- ``batch_mib``: the size of one batch of weights;
- ``models_per_s``: models read per second of iteration (index and metadata loading
  excluded; reported separately as ``open_s``).

The bound to meet: ``peak_rss_mib < 1024 + batch_mib``.

    python -m scripts.zoo_load_memory --preset paper --zoo /tmp/zoo-paper-synthetic \
        --json docs/results/zoo_load_memory_paper.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date

CASES = (
    {"name": "train split, shuffled, batch 10", "split": "train", "batch": 10, "shuffle": True},
    {"name": "train split, in id order, batch 10", "split": "train", "batch": 10,
     "shuffle": False},
    {"name": "whole zoo, in id order, batch 100", "split": None, "batch": 100,
     "shuffle": False},
)


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(zoo_dir: str, split: str | None, batch: int, shuffle: bool) -> dict:
    """One measurement, run in a fresh process (``--child``)."""
    import jax  # noqa: F401 - imported for the floor a predictor's process has
    import numpy as np

    from zoo_data.zoo import load_zoo

    rss_import = _rss_mib()
    t0 = time.perf_counter()
    zoo = load_zoo(zoo_dir, split=split)
    open_s = time.perf_counter() - t0
    batch_bytes = 4 * sum(int(np.prod(s)) for s in zoo.tensor_shapes.values()) * batch
    t0 = time.perf_counter()
    seen, checksum = 0, 0.0
    for b in zoo.batches(batch, shuffle=shuffle, seed=0):
        seen += len(b.model_id)
        checksum += float(b.params["DecoderGRUCell_0"]["Dense_0"]["bias"][:, 0].sum())
    iterate_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    return {
        "models": seen,
        "open_s": round(open_s, 2),
        "iterate_s": round(iterate_s, 2),
        "models_per_s": round(seen / iterate_s, 1),
        "rss_after_import_mib": round(rss_import, 1),
        "peak_rss_mib": round(peak, 1),
        "batch_mib": round(batch_bytes / 2**20, 2),
        "bound_mib": round(1024 + batch_bytes / 2**20, 1),
        "meets_bound": bool(peak < 1024 + batch_bytes / 2**20),
        "checksum": checksum,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--zoo", default="/tmp/zoo-paper-synthetic",
                        help="zoo folder (a synthetic one is written there if absent)")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--child", nargs=4, metavar=("ZOO", "SPLIT", "BATCH", "SHUFFLE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        zoo_dir, split, batch, shuffle = args.child
        print(json.dumps(child(zoo_dir, None if split == "all" else split, int(batch),
                               shuffle == "1")))
        return

    from zoo_builder.synthetic import write_synthetic_zoo
    from zoo_data.archive.manifest import read_manifest
    from zoo_data.rnn.presets import get_preset

    config = get_preset(args.preset)
    t0 = time.perf_counter()
    write_synthetic_zoo(args.zoo, config, progress=True)
    write_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in os.scandir(os.path.join(args.zoo, "data")))
    manifest = read_manifest(args.zoo)
    results = []
    for case in CASES:
        out = subprocess.run(
            [sys.executable, "-m", "scripts.zoo_load_memory", "--child", args.zoo,
             case["split"] or "all", str(case["batch"]), "1" if case["shuffle"] else "0"],
            capture_output=True, text=True, check=True)
        result = {**case, **json.loads(out.stdout.strip().splitlines()[-1])}
        results.append(result)
        print(json.dumps(result))
    record = {
        "benchmark": "zoo_load_memory",
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "preset_shape": args.preset,
        "synthetic": True,
        "num_models": config.num_models,
        "zoo_bytes": size,
        "write_or_check_s": round(write_s, 1),
        "builder_version": manifest.get("builder_version"),
        "results": results,
    }
    if args.json:
        with open(args.json, "w") as f:
            f.write(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
