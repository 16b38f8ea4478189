"""Result records: one JSON file per evaluated method and zoo, the leaderboard's input.

A record (schema version 1, every field documented in ``leaderboard/README.md``) is
written to ``RESULTS_DIR/<preset>-<manifest_sha256[:8]>__<method>.json``, so a method
has one result per zoo and a new evaluation replaces the old one. Its shape::

    {"schema_version": 1, "method", "display_name", "kind", "zoo": {...},
     "protocol": {...} | null, "seeds": [...], "runs": [{...}, ...], "summary": {...},
     "param_count", "wall_time_s", "audit": {...} | null, "predictions": {...},
     "environment": {...}, "created"}

Metrics inside a record are :func:`benchmarks.metrics.all_metrics` dicts; a ``NaN``
(an undefined correlation) is stored as ``null``, since JSON has no ``NaN``.
:func:`build_record` assembles a record (summary, environment and timestamp included),
:func:`write_result` validates and writes it atomically, :func:`read_results` reads a
folder back, validating every file: a malformed one is a :class:`TinyZooError` naming
it, never skipped.
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
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from tinyzoo.errors import TinyZooError
from zoo_builder.archive import atomic_write

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "SLUG_PATTERN",
    "SUMMARY_KEYS",
    "build_record",
    "check_slug",
    "environment",
    "read_results",
    "result_filename",
    "summarize",
    "to_jsonable",
    "validate_record",
    "write_result",
    "zoo_info",
    "zoo_key",
]

SCHEMA_VERSION = 1

#: ``"builtin"``: a predictor of this package run by ``tinyzoo bench``; ``"user"``: a
#: user's predictor trained by the same protocol; ``"submission"``: a scored CSV of
#: predictions (``tinyzoo submit``), whose training is unknown.
KINDS: tuple[str, ...] = ("builtin", "user", "submission")

#: Method names and presets become file names: letters, digits, ``.``, ``_``, ``-``.
SLUG_PATTERN = re.compile(r"[A-Za-z0-9._-]+")

#: ``summary`` key -> (split, metric) summarised over the runs.
SUMMARY_KEYS: dict[str, tuple[str, str]] = {
    "test_kendall_tau": ("test", "kendall_tau"),
    "val_kendall_tau": ("val", "kendall_tau"),
    "test_spearman": ("test", "spearman"),
    "test_r2": ("test", "r2"),
    "test_mae": ("test", "mae"),
}

#: Distributions whose versions go into ``environment.versions``.
VERSIONED_PACKAGES: tuple[str, ...] = (
    "tiny-rnn-zoo", "jax", "jaxlib", "flax", "optax", "dm-haiku", "numpy", "scipy", "pandas",
)

_REPO_ROOT = Path(__file__).resolve().parents[1]
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
    """``"<preset>-<manifest_sha256[:8]>"``: names a zoo in file names and headings."""
    return f"{zoo['preset']}-{zoo['manifest_sha256'][:8]}"


def result_filename(record: dict) -> str:
    """``"<preset>-<manifest_sha256[:8]>__<method>.json"`` of a record."""
    return f"{zoo_key(record['zoo'])}__{record['method']}.json"


def zoo_info(zoo) -> dict:
    """The ``zoo`` block of a record, from a :class:`zoo_builder.zoo.Zoo` (any split):
    preset, config fingerprint, manifest sha256, model count and split sizes."""
    from zoo_builder.splits import split_sizes

    return {
        "preset": zoo.config.preset,
        "config_fingerprint": zoo.config.fingerprint(),
        "manifest_sha256": zoo.manifest_sha256,
        "num_models": int(zoo.config.num_models),
        "splits": split_sizes(zoo.config.num_models),
    }


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
    """The ``environment`` block: hardware (machine, CPU cores, ``jax.devices()``),
    platform, Python version, versions of :data:`VERSIONED_PACKAGES` and the git
    revision of this checkout (``"unknown"`` outside a git checkout)."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "unknown"
    return {
        "hardware": _hardware(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_revision": _git_revision(),
    }


def build_record(
    *,
    method: str,
    display_name: str,
    kind: str,
    zoo: dict,
    runs: list[dict],
    predictions: dict,
    seeds: list[int] | None = None,
    protocol: dict | None = None,
    param_count: int | None = None,
    wall_time_s: float | None = None,
    audit: dict | None = None,
    env: dict | None = None,
    created: str | None = None,
) -> dict:
    """A complete record (not yet validated: :func:`write_result` does that).

    ``zoo``: :func:`zoo_info`'s dict. ``runs``: one dict per seed (keys in
    ``leaderboard/README.md``). ``predictions``: ``{"model_id", "predicted_sr",
    "actual_sr"}`` lists on the test split (first seed). ``seeds`` defaults to the runs'
    seeds, ``env`` to :func:`environment`, ``created`` to now (UTC).
    """
    if seeds is None:
        seeds = [run["seed"] for run in runs if run.get("seed") is not None]
    return to_jsonable({
        "schema_version": SCHEMA_VERSION,
        "method": method,
        "display_name": display_name,
        "kind": kind,
        "zoo": zoo,
        "protocol": protocol,
        "seeds": list(seeds),
        "runs": runs,
        "summary": summarize(runs),
        "param_count": param_count,
        "wall_time_s": wall_time_s,
        "audit": audit,
        "predictions": predictions,
        "environment": environment() if env is None else env,
        "created": created or datetime.now(UTC).isoformat(timespec="seconds"),
    })


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


# --------------------------------------------------------------------------- validation


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    """Type checks that raise one-line ``TinyZooError``\\ s naming ``where`` and the key."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, message: str) -> NoReturn:
        raise TinyZooError(f"{self.where}: {key}: {message}")

    def obj(self, value, key: str, required: tuple[str, ...], extra: bool = False,
            optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"expected an object, got {_short(value)}")
        missing = [k for k in required if k not in value]
        if missing:
            self.fail(key, f"missing key(s) {', '.join(missing)}")
        unknown = [k for k in value if k not in required and k not in optional]
        if unknown and not extra:
            self.fail(key, f"unknown key(s) {', '.join(map(str, unknown))}")
        return value

    def integer(self, value, key: str, *, null: bool = False, minimum: int | None = None):
        if value is None and null:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer{' or null' if null else ''}, got "
                           f"{_short(value)}")
        if minimum is not None and value < minimum:
            self.fail(key, f"expected an integer >= {minimum}, got {value}")

    def number(self, value, key: str, *, null: bool = False, minimum: float | None = None):
        if value is None and null:
            return
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            self.fail(key, f"expected a finite number{' or null' if null else ''}, got "
                           f"{_short(value)}")
        if minimum is not None and value < minimum:
            self.fail(key, f"expected a number >= {minimum}, got {value}")

    def text(self, value, key: str, *, null: bool = False, nonempty: bool = True):
        if value is None and null:
            return
        if not isinstance(value, str) or (nonempty and not value.strip()):
            self.fail(key, f"expected a non-empty string{' or null' if null else ''}, got "
                           f"{_short(value)}")

    def array(self, value, key: str) -> list:
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {_short(value)}")
        return value

    def metrics(self, value, key: str, *, null: bool = False):
        if value is None and null:
            return
        self.obj(value, key, ("kendall_tau", "spearman", "r2", "mae", "n"))
        for name in ("kendall_tau", "spearman", "r2"):
            self.number(value[name], f"{key}.{name}", null=True)
        self.number(value["mae"], f"{key}.mae", null=True, minimum=0)
        self.integer(value["n"], f"{key}.n", minimum=1)


_RECORD_KEYS = ("schema_version", "method", "display_name", "kind", "zoo", "protocol",
                "seeds", "runs", "summary", "param_count", "wall_time_s", "audit",
                "predictions", "environment", "created")
_ZOO_KEYS = ("preset", "config_fingerprint", "manifest_sha256", "num_models", "splits")
_PROTOCOL_KEYS = ("epochs", "batch_size", "learning_rate", "loss", "augment", "selection")
_RUN_KEYS = ("seed", "best_epoch", "epochs_run", "val", "test", "val_tau_per_epoch",
             "param_count", "wall_time_s")
_AUDIT_KEYS = ("max_abs_diff", "num_permutations", "num_models")
_PREDICTION_KEYS = ("model_id", "predicted_sr", "actual_sr")
_ENVIRONMENT_KEYS = ("hardware", "platform", "python", "versions", "git_revision")


def validate_record(record: Any, where: str = "result record") -> dict:
    """Check a record's keys and types against schema version 1 (``leaderboard/README.md``);
    return it. Raises ``TinyZooError`` ``"<where>: <key path>: <problem>"`` at the first
    problem. Unknown keys are refused everywhere except inside ``protocol`` and
    ``environment.versions``; ``runs[i].train_loss_per_epoch`` is optional."""
    c = _Checker(where)
    if not isinstance(record, dict):
        c.fail("record", f"expected a JSON object, got {_short(record)}")
    version_ = record.get("schema_version")
    if version_ != SCHEMA_VERSION:
        c.fail("schema_version", f"{_short(version_)}: this tinyzoo reads version "
                                 f"{SCHEMA_VERSION} (a newer tiny-rnn-zoo wrote it?)")
    c.obj(record, "record", _RECORD_KEYS)
    c.text(record["method"], "method")
    if not SLUG_PATTERN.fullmatch(record["method"]) or set(record["method"]) == {"."}:
        c.fail("method", f"{record['method']!r} is not a slug ([A-Za-z0-9._-]+)")
    c.text(record["display_name"], "display_name")
    kind = record["kind"]
    if kind not in KINDS:
        c.fail("kind", f"{_short(kind)}: expected one of {', '.join(KINDS)}")

    zoo = c.obj(record["zoo"], "zoo", _ZOO_KEYS)
    c.text(zoo["preset"], "zoo.preset")
    if not SLUG_PATTERN.fullmatch(zoo["preset"]):
        c.fail("zoo.preset", f"{zoo['preset']!r} is not a slug ([A-Za-z0-9._-]+)")
    c.text(zoo["config_fingerprint"], "zoo.config_fingerprint")
    if not isinstance(zoo["manifest_sha256"], str) or not _SHA256.fullmatch(
            zoo["manifest_sha256"]):
        c.fail("zoo.manifest_sha256", f"expected 64 lowercase hex digits, got "
                                      f"{_short(zoo['manifest_sha256'])}")
    c.integer(zoo["num_models"], "zoo.num_models", minimum=1)
    splits = c.obj(zoo["splits"], "zoo.splits", ("train", "val", "test"))
    for name, count in splits.items():
        c.integer(count, f"zoo.splits.{name}", minimum=0)

    if kind == "submission":
        if record["protocol"] is not None:
            c.fail("protocol", "must be null for a submission (its training is unknown)")
    else:
        protocol = c.obj(record["protocol"], "protocol", _PROTOCOL_KEYS, extra=True)
        c.integer(protocol["epochs"], "protocol.epochs", minimum=0)
        c.integer(protocol["batch_size"], "protocol.batch_size", minimum=1)
        c.number(protocol["learning_rate"], "protocol.learning_rate", minimum=0)
        c.text(protocol["loss"], "protocol.loss")
        if protocol["augment"] is not None and not isinstance(protocol["augment"], bool | str):
            c.fail("protocol.augment", f"expected true/false, a string or null, got "
                                       f"{_short(protocol['augment'])}")
        c.text(protocol["selection"], "protocol.selection")

    seeds = c.array(record["seeds"], "seeds")
    for i, seed in enumerate(seeds):
        c.integer(seed, f"seeds[{i}]")
    if kind == "submission" and seeds:
        c.fail("seeds", "must be [] for a submission")

    runs = c.array(record["runs"], "runs")
    if not runs:
        c.fail("runs", "expected at least one run")
    for i, run in enumerate(runs):
        key = f"runs[{i}]"
        c.obj(run, key, _RUN_KEYS, optional=("train_loss_per_epoch",))
        c.integer(run["seed"], f"{key}.seed", null=True)
        c.integer(run["best_epoch"], f"{key}.best_epoch", null=True, minimum=0)
        c.integer(run["epochs_run"], f"{key}.epochs_run", null=True, minimum=0)
        c.metrics(run["val"], f"{key}.val", null=True)
        c.metrics(run["test"], f"{key}.test")
        for name in ("val_tau_per_epoch", "train_loss_per_epoch"):
            for j, value in enumerate(c.array(run.get(name, []), f"{key}.{name}")):
                c.number(value, f"{key}.{name}[{j}]", null=True)
        c.integer(run["param_count"], f"{key}.param_count", null=True, minimum=0)
        c.number(run["wall_time_s"], f"{key}.wall_time_s", null=True, minimum=0)
    if kind != "submission" and len(seeds) != len(runs):
        c.fail("seeds", f"{len(seeds)} seeds but {len(runs)} runs")

    summary = c.obj(record["summary"], "summary", tuple(SUMMARY_KEYS))
    for name, entry in summary.items():
        c.obj(entry, f"summary.{name}", ("mean", "std", "n"))
        c.number(entry["mean"], f"summary.{name}.mean", null=True)
        c.number(entry["std"], f"summary.{name}.std", null=True, minimum=0)
        c.integer(entry["n"], f"summary.{name}.n", minimum=0)

    c.integer(record["param_count"], "param_count", null=True, minimum=0)
    c.number(record["wall_time_s"], "wall_time_s", null=True, minimum=0)
    if record["audit"] is not None:
        audit = c.obj(record["audit"], "audit", _AUDIT_KEYS)
        c.number(audit["max_abs_diff"], "audit.max_abs_diff", minimum=0)
        c.integer(audit["num_permutations"], "audit.num_permutations", minimum=1)
        c.integer(audit["num_models"], "audit.num_models", minimum=1)

    predictions = c.obj(record["predictions"], "predictions", _PREDICTION_KEYS)
    lengths = {name: len(c.array(predictions[name], f"predictions.{name}"))
               for name in _PREDICTION_KEYS}
    if len(set(lengths.values())) != 1:
        c.fail("predictions", "lists of different lengths ("
               + ", ".join(f"{k} {v}" for k, v in lengths.items()) + ")")
    for j, model_id in enumerate(predictions["model_id"]):
        c.integer(model_id, f"predictions.model_id[{j}]", minimum=0)
    for name in ("predicted_sr", "actual_sr"):
        for j, value in enumerate(predictions[name]):
            c.number(value, f"predictions.{name}[{j}]")

    env = c.obj(record["environment"], "environment", _ENVIRONMENT_KEYS)
    for name in ("hardware", "platform", "python", "git_revision"):
        c.text(env[name], f"environment.{name}")
    versions = c.obj(env["versions"], "environment.versions", (), extra=True)
    for name, value in versions.items():
        c.text(value, f"environment.versions.{name}")

    c.text(record["created"], "created")
    try:
        datetime.fromisoformat(record["created"])
    except ValueError:
        c.fail("created", f"{record['created']!r} is not an ISO-8601 time")
    return record


# --------------------------------------------------------------------------- files


def write_result(record: dict, results_dir: str | os.PathLike) -> Path:
    """Validate ``record`` (after :func:`to_jsonable`) and write it atomically to
    ``results_dir/<preset>-<sha8>__<method>.json`` (the folder is created if missing),
    replacing an earlier result of the same method on the same zoo. Returns the path."""
    results_dir = Path(results_dir)
    record = to_jsonable(record)
    name = "result record"
    if isinstance(record, dict) and isinstance(record.get("zoo"), dict):
        with contextlib.suppress(KeyError, TypeError):
            name = str(results_dir / result_filename(record))
    validate_record(record, name)
    path = results_dir / result_filename(record)
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
        line = _one_line(exc)
        raise TinyZooError(f"{path}: not valid JSON ({line})") from None
    validate_record(record, str(path))
    expected = result_filename(record)
    if path.name != expected:
        raise TinyZooError(
            f"{path}: the record is method {record['method']} on zoo "
            f"{zoo_key(record['zoo'])}, so its file must be named {expected}"
        )
    return record


def _one_line(message: object) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


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
