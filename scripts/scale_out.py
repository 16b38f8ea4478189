"""Scaling of ``tinyzoo build``: models/s on 1 and 2 devices and with 1 and 2 Ray workers.

Each configuration builds the same zoo from scratch into a fresh folder with a real
``tinyzoo build`` process, timed from launch to exit (so JAX start-up, compilation,
Ray start-up and writing the shards are included: what a user waits for). The
configurations:

- ``local``: one process, one device (the baseline);
- ``local-2dev``: one process over 2 devices (on a CPU: 2 host devices forced with
  ``--xla_force_host_platform_device_count=2``);
- ``local-2workers``: one process, one device, 2 groups trained at once in threads;
- ``ray-1`` / ``ray-2``: ``--backend ray`` on a local Ray instance with 1 / 2 CPUs,
  so 1 / 2 tasks (groups) at once.

Every build must give the same shards as the baseline (checked); the figure is
``models/s`` and its ratio to the baseline's, measured in the same run.

    python -m scripts.scale_out --preset mini --json docs/results/scale_out_cpu.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zoo_data.archive.manifest import read_manifest
from zoo_data.rnn.presets import get_preset

TWO_HOST_DEVICES = "--xla_force_host_platform_device_count=2"

CONFIGS: dict[str, tuple[list[str], dict[str, str]]] = {
    "local": ([], {}),
    "local-2dev": ([], {"XLA_FLAGS": TWO_HOST_DEVICES}),
    "local-2workers": (["--workers", "2"], {}),
    "ray-1": (["--backend", "ray", "--workers", "1"], {}),
    "ray-2": (["--backend", "ray", "--workers", "2"], {}),
}


def timed_build(preset: str, out: Path, args: list[str], env_extra: dict[str, str]) -> float:
    """Wall seconds of ``tinyzoo build --preset P --out OUT ARGS --quiet``."""
    env = {**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")}
    env.pop("XLA_FLAGS", None)
    env.update(env_extra)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tinyzoo", "build", "--preset", preset, "--out",
                    str(out), "--quiet", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mini")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    names = args.configs.split(",")
    if names[0] != "local":
        names.insert(0, "local")  # the baseline is always measured
    if importlib.util.find_spec("ray") is None:
        names = [n for n in names if not n.startswith("ray")]
    config = get_preset(args.preset)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for name in names:
            flags, env_extra = CONFIGS[name]
            out = Path(tmp) / name
            seconds = timed_build(args.preset, out, flags, env_extra)
            shards = read_manifest(out)["shards"]
            if reference is None:
                reference = shards
            same = shards == reference
            rows.append({"config": name, "args": flags, "env": env_extra, "seconds": seconds,
                         "models_per_s": config.num_models / seconds, "same_zoo": same})
            print(f"{name:>15}: {seconds:7.1f} s, {config.num_models / seconds:6.2f} models/s, "
                  f"{rows[0]['seconds'] / seconds:.2f}x the baseline, same zoo: {same}",
                  flush=True)
            shutil.rmtree(out)
    for row in rows:
        row["ratio_to_local"] = rows[0]["seconds"] / row["seconds"]
    result = {
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "python": platform.python_version()},
        "preset": args.preset,
        "num_models": config.num_models,
        "steps": config.steps,
        "rows": rows,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if not all(r["same_zoo"] for r in rows):
        raise SystemExit("a configuration built a different zoo")


if __name__ == "__main__":
    main()
