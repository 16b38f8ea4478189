"""What verifying a zoo before use costs: ``open_local_zoo`` with and without checking
every shard's sha256, on a zoo of the chosen preset's size.

Writes a synthetic zoo (real schema and layout, random weights) of the preset if the
folder does not hold one yet (:func:`zoo_builder.synthetic.write_synthetic_zoo`,
resumable), then in one fresh child process (so the per-process cache of verified
shards starts empty) times, in this order:

- ``open_unverified_s``: ``open_local_zoo(zoo, verify=False)`` (the index and metadata);
- ``open_verified_s``: ``open_local_zoo(zoo, verify=True)``, the first time: every
  shard streamed through sha256 (the figure the issue asks for);
- ``open_verified_again_s``: the same call again: the process's cache skips the hash;
- ``epoch_read_s``: one pass over the train split in batches of 10 (what a predictor's
  epoch reads), the baseline the verification is compared with.

The page cache is warmed by one read of every shard first, so the figures are CPU
cost, not disk speed (on a cold disk, the first read pays the disk once either way).

    python -m scripts.verify_cost --preset paper --zoo /tmp/zoo-paper-synthetic \
        --json docs/results/verify_cost_paper.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
from zoo_data.zoo import open_local_zoo
zoo_dir = sys.argv[1]
for p in sorted(Path(zoo_dir, "data").glob("*.parquet")):  # warm the page cache
    with open(p, "rb") as f:
        while f.read(1 << 24):
            pass
t = time.perf_counter(); open_local_zoo(zoo_dir, verify=False)
unverified = time.perf_counter() - t
t = time.perf_counter(); zoo = open_local_zoo(zoo_dir, verify=True)
verified = time.perf_counter() - t
t = time.perf_counter(); open_local_zoo(zoo_dir, verify=True)
again = time.perf_counter() - t
train = zoo.with_split("train")
t = time.perf_counter()
for _ in train.batches(10, labels=False):
    pass
epoch = time.perf_counter() - t
size = sum(p.stat().st_size for p in Path(zoo_dir, "data").glob("*.parquet"))
print(json.dumps({"models": len(zoo), "shards": len(zoo.manifest["shards"]),
                  "bytes": size, "open_unverified_s": unverified,
                  "open_verified_s": verified, "open_verified_again_s": again,
                  "epoch_read_s": epoch, "train_models": len(train)}))
"""


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--zoo", required=True, help="Zoo folder (written if missing).")
    parser.add_argument("--json", help="Write the figures here.")
    args = parser.parse_args(argv)

    from zoo_builder.synthetic import write_synthetic_zoo
    from zoo_data.rnn.presets import get_preset

    zoo_dir = Path(args.zoo)
    if not (zoo_dir / "manifest.json").is_file() or '"complete": true' not in (
            zoo_dir / "manifest.json").read_text():
        write_synthetic_zoo(zoo_dir, get_preset(args.preset), progress=True)
    done = subprocess.run([sys.executable, "-c", CHILD, str(zoo_dir)], check=True,
                          capture_output=True, text=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    gb = figures["bytes"] / 1e9
    figures.update({
        "preset": args.preset, "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
                   f"{__import__('os').cpu_count()} cores",
        "hash_gb_per_s": round(
            gb / (figures["open_verified_s"] - figures["open_verified_again_s"]), 3),
        "verify_over_epoch": round(
            (figures["open_verified_s"] - figures["open_unverified_s"])
            / figures["epoch_read_s"], 3),
    })
    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return figures


if __name__ == "__main__":
    main()
