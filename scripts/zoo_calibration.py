"""Calibrate a zoo preset: train a sample of its models and report the SR spread.

The sample is the zoo of the same config with fewer models (``--models``), so its
learning rates and batch sizes are drawn exactly as in the real zoo. Any config field
can be overridden to try alternatives, and ``--checkpoints`` evaluates the same models
after several step counts in one run (the steps of a preset are the main knob), e.g.

    python -m scripts.zoo_calibration --preset mini --models 60 \
        --set hidden=32 --checkpoints 300,600,1200 --json docs/results/calib.json

For every checkpoint it prints the spread criterion of :mod:`zoo_data.archive.labels`; the
run's model-steps per second are wall-clock (compilation and evaluations included).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from zoo_builder.train import train_group
from zoo_data.archive.labels import sr_spread
from zoo_data.archive.layout import training_groups
from zoo_data.common.atomic import atomic_write, json_bytes
from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import VARIATIONS, ZooConfig, get_preset


def override(config: ZooConfig, assignments: list[str]) -> ZooConfig:
    """``config`` with ``FIELD=VALUE`` assignments applied (ints and floats;
    ``digit_weights=w1,w2,...``; ``operands=small-addend``; ``checkpoints=s1,s2,...``;
    a variation's range ``weight_decay=low,high`` or ``weight_decay=none``)."""
    fields = {f.name for f in dataclasses.fields(ZooConfig)}
    changes = {}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep or key not in fields or key in ("preset", "batch_sizes"):
            raise SystemExit(f"--set {item}: expected FIELD=VALUE with a config field")
        current = getattr(config, key)
        if value == "none" and key in ("checkpoints", "digit_weights", *VARIATIONS):
            changes[key] = None
        elif key in ("digit_weights", *VARIATIONS):
            changes[key] = tuple(float(w) for w in value.split(","))
        elif key == "checkpoints":
            changes[key] = tuple(int(w) for w in value.split(","))
        elif key in ("operands", "lr_schedule"):
            changes[key] = value
        else:
            changes[key] = float(value) if isinstance(current, float) else int(value)
    return dataclasses.replace(config, **changes)


def calibrate(config: ZooConfig, checkpoints: list[int], partial: Path | None = None) -> dict:
    """Train every model of ``config`` for ``max(checkpoints)`` steps with
    :func:`zoo_builder.train.train_group` (the builder's own code), evaluating all of them
    after each checkpoint. Returns per-checkpoint spreads and per-model SRs.

    With ``partial``, each finished group's SRs are saved there (atomically), and a
    re-run with the same config and checkpoints skips the groups already saved."""
    if config.lr_schedule != "constant" and len(checkpoints) > 1:
        # the schedule spans max(checkpoints) steps, so earlier checkpoints are mid-decay
        # and not what a zoo of that many steps would hold
        raise ValueError(f"lr_schedule {config.lr_schedule!r}: one checkpoint per run "
                         f"(got {checkpoints})")
    # the zoo's own checkpoints are not archived here: every step of ``checkpoints`` is
    # evaluated in the one run instead
    config = dataclasses.replace(config, steps=max(checkpoints), checkpoints=None)
    key = {"config": config.to_dict(), "checkpoints": checkpoints}
    saved = {"key": key, "groups": {}, "wall_s": 0.0}
    if partial is not None and partial.exists():
        previous = json.loads(partial.read_text())
        if previous.get("key") == key:
            saved = previous
    t_start = time.perf_counter()
    for group in training_groups(config):
        if str(group.index) in saved["groups"]:
            continue
        t0 = time.perf_counter()
        result = train_group(config, group, evaluate_at=checkpoints[:-1])
        saved["groups"][str(group.index)] = {
            str(c): result.sr_at.get(c, result.test_sr).tolist() for c in checkpoints
        }
        saved["wall_s"] += time.perf_counter() - t0
        if partial is not None:
            atomic_write(partial, json_bytes(saved))
    srs: dict[int, dict[int, float]] = {c: {} for c in checkpoints}
    for group in training_groups(config):
        for c in checkpoints:
            values = saved["groups"][str(group.index)][str(c)]
            for i, s in zip(group.model_ids, values, strict=True):
                srs[c][i] = s
    wall = saved["wall_s"] if saved["wall_s"] else time.perf_counter() - t_start
    out = {
        "config": config.to_dict(),
        "wall_s": wall,
        # wall clock, including compilation and the evaluations
        "model_steps_per_s": config.num_models * config.steps / wall,
        "checkpoints": {},
    }
    for c in checkpoints:
        values = np.asarray([srs[c][i] for i in sorted(srs[c])])
        report = sr_spread(values)
        out["checkpoints"][str(c)] = {
            "spread": dataclasses.asdict(report) | {"ok": report.ok},
            "summary": report.summary(),
            "models": [
                {"id": i, "lr": model_hparams(config, i).learning_rate,
                 "batch": model_hparams(config, i).batch_size, "sr": srs[c][i]}
                for i in sorted(srs[c])
            ],
        }
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--models", type=int, help="sample size (default: the preset's)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--checkpoints", help="comma-separated step counts (default: steps)")
    parser.add_argument("--json", help="write the full result here")
    parser.add_argument("--verbose", action="store_true", help="print every model's SR")
    args = parser.parse_args(argv)
    config = override(get_preset(args.preset), args.set)
    if args.models:
        config = dataclasses.replace(config, num_models=args.models)
    checkpoints = sorted({int(c) for c in args.checkpoints.split(",")}) if args.checkpoints \
        else [config.steps]
    partial = Path(args.json + ".partial") if args.json else None
    out = calibrate(config, checkpoints, partial)
    print(f"config {json.dumps(out['config'])}")
    print(f"wall {out['wall_s']:.1f} s, {out['model_steps_per_s']} model-steps/s")
    for c, entry in out["checkpoints"].items():
        print(f"steps {c}: {entry['summary']}")
        if args.verbose:
            for m in entry["models"]:
                print(f"  model {m['id']:5d} lr={m['lr']:.2e} bs={m['batch']:3d} sr={m['sr']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        partial.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
