"""Result records: one JSON file per evaluated method and zoo, the leaderboard's input.

A record (schema version 3, every field documented in ``leaderboard/README.md``) is
written to ``RESULTS_DIR/<preset>-<manifest_sha256[:8]>__<method>.json``, so a method
has one result per zoo and a new evaluation replaces the old one. Its shape::

    {"schema_version": 3, "method", "display_name", "kind", "reads", "zoo": {...},
     "protocol": {...} | null, "code_fingerprint": "<sha256>" | null,
     "seeds": [...], "runs": [{...}, ...], "summary": {...},
     "test_tau_ci": {...} | null, "param_count", "wall_time_s", "audit": {...} | null,
     "predictions": {...}, "environment": {...}, "created"}

Metrics inside a record are :func:`benchmarks.metrics.all_metrics` dicts; a ``NaN``
(an undefined correlation) is stored as ``null``, since JSON has no ``NaN``.
:func:`build_record` assembles a record (summary, environment and timestamp
included), :func:`write_result` validates it (:mod:`benchmarks.validation`) and writes
it atomically, :func:`read_results` reads a folder back, validating every file: a
malformed one is a :class:`TinyZooError` naming it, never skipped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.machine import machine_fingerprint
from benchmarks.significance import LEVEL, RESAMPLES, tau_interval
from benchmarks.validation import SCHEMA_VERSION, SLUG_PATTERN, SUMMARY_KEYS, validate_record
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError, one_line
from zoo_data.version import package_versions

__all__ = [
    "build_record",
    "check_slug",
    "environment",
    "read_results",
    "result_filename",
    "stable_content",
    "summarize",
    "test_tau_ci",
    "to_jsonable",
    "write_result",
    "zoo_info",
    "zoo_key",
]

#: Distributions whose versions go into ``environment.versions``.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "tiny-rnn-zoo", "jax", "jaxlib", "flax", "optax", "dm-haiku", "numpy", "scipy", "pandas",
)

_REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- names


def check_slug(value: str, what: str) -> str:
    """``value`` if it is a safe file-name slug (``[A-Za-z0-9._-]+``, not only dots),
    else ``TinyZooError`` naming ``what``."""
    if (not isinstance(value, str) or not SLUG_PATTERN.fullmatch(value)
            or set(value) == {"."}):
        raise TinyZooError(
            f"{what} {value!r}: use only letters, digits, '.', '_' and '-' (e.g. my-predictor)"
        )
    return value


def zoo_key(zoo: dict) -> str:
    """``"<preset>-<manifest_sha256[:8]>"``: names a zoo in file names and headings;
    under a split scheme other than the default, ``"<preset>-<sha8>.<scheme>"``
    (``"small-v2-a8f43de8.lr-shift"``): its own table on the board."""
    key = f"{zoo['preset']}-{zoo['manifest_sha256'][:8]}"
    return f"{key}.{zoo['split_scheme']}" if zoo.get("split_scheme") else key


def result_filename(record: dict) -> str:
    """``"<preset>-<manifest_sha256[:8]>__<method>.json"`` of a record."""
    return f"{zoo_key(record['zoo'])}__{record['method']}.json"


def zoo_info(zoo) -> dict:
    """The ``zoo`` block of a record, from a :class:`zoo_data.zoo.Zoo` (any split):
    preset, config fingerprint, manifest sha256, model count and split sizes (in models),
    under a split scheme other than the default its ``split_scheme`` and ``split_rule``
    (the rule in words),
    for a zoo of another family than the Tiny RNN Zoo its ``family``
    (:attr:`zoo_data.zoo.Zoo.family`'s name), and for a zoo with checkpoints
    ``rows_per_model`` (test rows ``model_id`` belong to model
    ``model_id // rows_per_model``, the unit of the bootstrap)."""
    from zoo_data.archive.split_schemes import DEFAULT_SCHEME, scheme_ids, scheme_names
    from zoo_data.families.registry import family_field

    info = {
        "preset": zoo.config.preset,
        "config_fingerprint": zoo.config.fingerprint(),
        "manifest_sha256": zoo.manifest_sha256,
        "num_models": int(zoo.config.num_models),
        "splits": {split: int(len(ids)) for split, ids in
                   scheme_ids(zoo.config, zoo.split_scheme).items()},
    }
    if zoo.split_scheme != DEFAULT_SCHEME:
        info["split_scheme"] = zoo.split_scheme
        info["split_rule"] = scheme_names(zoo.config)[zoo.split_scheme]
    if zoo.config.rows_per_model > 1:
        info["rows_per_model"] = zoo.config.rows_per_model
    info.update(family_field(zoo.family.name))  # none for the Tiny RNN Zoo: as written
    return info


def test_clusters(record_zoo: dict, model_ids) -> np.ndarray | None:
    """The model of each test row (``model_id // rows_per_model``) for a zoo with
    checkpoints, the bootstrap's unit; ``None`` when every row is a model."""
    per_model = record_zoo.get("rows_per_model", 1)
    if per_model == 1:
        return None
    return np.asarray(model_ids, np.int64) // per_model


# --------------------------------------------------------------------------- building


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def summarize(runs: list[dict]) -> dict:
    """The ``summary`` block: for each :data:`SUMMARY_KEYS` entry ``{"mean", "std",
    "n"}`` over the runs that have that split (``run[split]`` not ``None``).

    ``n`` counts those runs; ``std`` is the sample standard deviation (``ddof=1``),
    ``None`` when ``n < 2``; ``mean`` (and ``std``) are ``None`` when ``n == 0`` or any
    run's value is undefined (``None``/``NaN``).
    """
    summary = {}
    for key, (split, metric) in SUMMARY_KEYS.items():
        values = [_finite_or_none(run[split][metric]) for run in runs
                  if run.get(split) is not None]
        n = len(values)
        if n == 0 or any(v is None for v in values):
            mean = std = None
        else:
            arr = np.asarray(values, np.float64)
            mean = float(arr.mean())
            std = float(arr.std(ddof=1)) if n > 1 else None
        summary[key] = {"mean": mean, "std": std, "n": n}
    return summary


def _git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=_REPO_ROOT, capture_output=True, text=True,
            timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    revision = out.stdout.strip()
    return revision if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", revision) \
        else "unknown"


def _hardware() -> str:
    parts = [f"{platform.machine() or 'unknown machine'}, {os.cpu_count() or '?'} CPU cores"]
    try:
        import jax

        devices = jax.devices()
        kinds: dict[str, int] = {}
        for device in devices:
            kind = f"{device.platform}: {device.device_kind}"
            kinds[kind] = kinds.get(kind, 0) + 1
        parts += [f"{count} x {kind}" for kind, count in kinds.items()]
    except Exception as exc:  # a broken accelerator setup must not lose the result
        parts.append(f"jax devices unavailable ({type(exc).__name__})")
    return "; ".join(parts)


def environment() -> dict:
    """The ``environment`` block: hardware (machine, CPU cores, ``jax.devices()``), the
    machine's fingerprint (:func:`benchmarks.machine.machine_fingerprint`: what decides
    the floating-point bits), platform, Python version, versions of
    :data:`VERSIONED_PACKAGES` and the git revision of this checkout (``"unknown"``
    outside a git checkout)."""
    return {
        "hardware": _hardware(),
        "machine": machine_fingerprint(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": package_versions(VERSIONED_PACKAGES),
        "git_revision": _git_revision(),
    }


def build_record(
    *,
    method: str,
    display_name: str,
    kind: str,
    reads: str,
    zoo: dict,
    runs: list[dict],
    predictions: dict,
    seeds: list[int] | None = None,
    protocol: dict | None = None,
    code_fingerprint: str | None = None,
    param_count: int | None = None,
    wall_time_s: float | None = None,
    audit: dict | None = None,
    env: dict | None = None,
    created: str | None = None,
) -> dict:
    """A complete record (not yet validated: :func:`write_result` does that).

    ``reads``: what the method read (:data:`benchmarks.validation.READS_VALUES`).
    ``zoo``: :func:`zoo_info`'s dict. ``runs``: one dict per seed (keys in
    ``leaderboard/README.md``). ``predictions``: ``{"model_id", "actual_sr"}`` lists on
    the test split and ``"predicted_sr"``, one list per run. The 95% interval of the
    mean test tau (:func:`benchmarks.significance.tau_interval`) is computed here from
    them. ``code_fingerprint``: :func:`benchmarks.bench.code_fingerprint` of the code
    that computed the runs (``None`` for a scored CSV, whose code is not here).
    ``seeds`` defaults to the runs' seeds, ``env`` to :func:`environment`, ``created``
    to now (UTC).
    """
    if seeds is None:
        seeds = [run["seed"] for run in runs if run.get("seed") is not None]
    predictions = to_jsonable(predictions)
    return to_jsonable({
        "schema_version": SCHEMA_VERSION,
        "method": method,
        "display_name": display_name,
        "kind": kind,
        "reads": reads,
        "zoo": zoo,
        "protocol": protocol,
        "code_fingerprint": code_fingerprint,
        "seeds": list(seeds),
        "runs": runs,
        "summary": summarize(runs),
        "test_tau_ci": test_tau_ci(predictions, test_clusters(zoo, predictions["model_id"])),
        "param_count": param_count,
        "wall_time_s": wall_time_s,
        "audit": audit,
        "predictions": predictions,
        "environment": environment() if env is None else env,
        "created": created or datetime.now(UTC).isoformat(timespec="seconds"),
    })


def test_tau_ci(predictions: dict, clusters: np.ndarray | None = None) -> dict | None:
    """The ``test_tau_ci`` block of a record's ``predictions`` (module docstring):
    ``{"level", "low", "high", "resamples", "method"}``, or ``None`` when the test tau
    is undefined. ``clusters`` (:func:`test_clusters`) resamples models, not rows."""
    if not predictions["model_id"]:
        return None
    interval = tau_interval(np.asarray(predictions["predicted_sr"], np.float64),
                            np.asarray(predictions["actual_sr"], np.float64),
                            clusters=clusters)
    if interval is None:
        return None
    return {"level": LEVEL, "low": interval[0], "high": interval[1], "resamples": RESAMPLES,
            "method": CI_METHOD if clusters is None else CI_METHOD_CLUSTERED}


#: How ``test_tau_ci`` is computed, as stored in records.
CI_METHOD = "percentile bootstrap over test models, pooled over seeds (scipy.stats.bootstrap)"
#: The same for a zoo with checkpoints: models are drawn with all their rows.
CI_METHOD_CLUSTERED = ("percentile bootstrap over test models, each with all its checkpoint "
                       "rows, pooled over seeds (scipy.stats.bootstrap)")

#: Keys that describe one measurement rather than the result: a re-run that reproduces
#: everything else keeps the record as it was (:func:`write_result`).
VOLATILE_KEYS = ("created", "environment", "wall_time_s")


def stable_content(record: dict) -> dict:
    """``record`` without its :data:`VOLATILE_KEYS` (and the runs' wall times): what a
    bitwise reproduction must give again."""
    out = {k: v for k, v in record.items() if k not in VOLATILE_KEYS}
    out["runs"] = [{k: v for k, v in run.items() if k != "wall_time_s"}
                   for run in record.get("runs", [])]
    return out


def to_jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars and arrays turned into Python numbers and lists,
    tuples into lists, and ``NaN``/``inf`` into ``None`` (float32 values keep their
    shortest decimal form, ``0.3`` rather than ``0.30000001192092896``)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.float32 | np.float16):
        value = float(str(obj))
        return value if math.isfinite(value) else None
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


# --------------------------------------------------------------------------- files


def write_result(record: dict, results_dir: str | os.PathLike) -> Path:
    """Validate ``record`` (after :func:`to_jsonable`) and write it atomically to
    ``results_dir/<preset>-<sha8>__<method>.json`` (the folder is created if missing),
    replacing an earlier result of the same method on the same zoo. A record whose
    content equals the file's except for :data:`VOLATILE_KEYS` (a re-run that reproduced
    it) leaves the file untouched. Returns the path."""
    results_dir = Path(results_dir)
    record = to_jsonable(record)
    name = "result record"
    if isinstance(record, dict) and isinstance(record.get("zoo"), dict):
        with contextlib.suppress(KeyError, TypeError):
            name = str(results_dir / result_filename(record))
    validate_record(record, name)
    path = results_dir / result_filename(record)
    if path.is_file():
        try:
            existing = json.loads(path.read_bytes())
        except (OSError, ValueError):
            existing = None
        if isinstance(existing, dict) and stable_content(existing) == stable_content(record):
            return path  # reproduced bit for bit: keep the record (and its timings)
    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TinyZooError(f"{results_dir}: cannot create the folder "
                           f"({exc.strerror or exc})") from None
    data = (json.dumps(record, indent=2, allow_nan=False) + "\n").encode()
    atomic_write(path, data)
    return path


def read_result(path: str | os.PathLike) -> dict:
    """The validated record in ``path``; ``TinyZooError`` naming the file if it is
    unreadable, not JSON, fails :func:`validate_record` or is misnamed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TinyZooError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        record = json.loads(raw)
    except ValueError as exc:
        line = one_line(exc)
        raise TinyZooError(f"{path}: not valid JSON ({line})") from None
    validate_record(record, str(path))
    expected = result_filename(record)
    if path.name != expected:
        raise TinyZooError(
            f"{path}: the record is method {record['method']} on zoo "
            f"{zoo_key(record['zoo'])}, so its file must be named {expected}"
        )
    return record


def read_results(results_dir: str | os.PathLike) -> list[dict]:
    """Every record ``results_dir/*.json``, sorted by file name (a missing folder holds
    none). Each is checked by :func:`read_result`; the first bad file is a
    ``TinyZooError`` naming it, none is skipped."""
    results_dir = Path(results_dir)
    if not results_dir.exists():
        return []
    if not results_dir.is_dir():
        raise TinyZooError(f"{results_dir}: not a folder of result records")
    return [read_result(path) for path in sorted(results_dir.glob("*.json"))]
