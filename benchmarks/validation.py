"""Checks that a result record has the shape of schema version 2, every field's type
and range included (``leaderboard/README.md`` documents each field).

Version 2 added ``reads``, ``test_tau_ci`` and one list of test predictions per run. A
record of another version (version 1 records were written before that) is refused
with one line naming the file: re-run the method (``tinyzoo bench``).

:func:`validate_record` raises one ``TinyZooError`` ``"<where>: <key path>: <problem>"``
at the first problem, so a malformed record (hand-edited, truncated, written by a newer
version) is refused with the file and key named, never half-read.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, NoReturn

from benchmarks.machine import MACHINE_KEYS
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import families

__all__ = ["KINDS", "READS_VALUES", "SCHEMA_VERSION", "SLUG_PATTERN", "SUMMARY_KEYS",
           "validate_record"]

SCHEMA_VERSION = 3

#: What a record's method read: a predictor's declaration (``predictors.base.READS``) or
#: ``"unknown"`` (a submitted CSV).
READS_VALUES: tuple[str, ...] = ("weights", "metadata", "function", "unknown")

#: ``"builtin"``: a predictor of this package run by ``tinyzoo bench``; ``"user"``: a
#: user's predictor trained by the same protocol; ``"submission"``: a scored CSV of
#: predictions (``tinyzoo submit``), whose training is unknown.
KINDS: tuple[str, ...] = ("builtin", "user", "submission")

#: Method names and presets become file names: letters, digits, ``.``, ``_``, ``-``.
SLUG_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")

#: ``summary`` key -> (split, metric) summarised over the runs.
SUMMARY_KEYS: dict[str, tuple[str, str]] = {
    "test_kendall_tau": ("test", "kendall_tau"),
    "val_kendall_tau": ("val", "kendall_tau"),
    "test_spearman": ("test", "spearman"),
    "test_r2": ("test", "r2"),
    "test_mae": ("test", "mae"),
}

_SHA256 = re.compile(r"[0-9a-f]{64}")


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


_RECORD_KEYS = ("schema_version", "method", "display_name", "kind", "reads", "zoo",
                "protocol", "code_fingerprint", "seeds", "runs", "summary", "test_tau_ci",
                "param_count", "wall_time_s", "audit", "predictions", "environment", "created")
_CI_KEYS = ("level", "low", "high", "resamples", "method")
_ZOO_KEYS = ("preset", "config_fingerprint", "manifest_sha256", "num_models", "splits")
_PROTOCOL_KEYS = ("epochs", "batch_size", "learning_rate", "loss", "augment", "selection")
_RUN_KEYS = ("seed", "best_epoch", "epochs_run", "val", "test", "val_tau_per_epoch",
             "param_count", "wall_time_s")
_AUDIT_KEYS = ("max_abs_diff", "num_permutations", "num_models")
_PREDICTION_KEYS = ("model_id", "predicted_sr", "actual_sr")
_ENVIRONMENT_KEYS = ("hardware", "machine", "platform", "python", "versions",
                     "git_revision")


def validate_record(record: Any, where: str = "result record") -> dict:
    """Check a record's keys and types against schema version 3 (``leaderboard/README.md``);
    return it. Raises ``TinyZooError`` ``"<where>: <key path>: <problem>"`` at the first
    problem. Unknown keys are refused everywhere except inside ``protocol`` and
    ``environment.versions``; ``runs[i].train_loss_per_epoch`` is optional."""
    c = _Checker(where)
    if not isinstance(record, dict):
        c.fail("record", f"expected a JSON object, got {_short(record)}")
    version_ = record.get("schema_version")
    if version_ != SCHEMA_VERSION:
        hint = ("an older tiny-rnn-zoo wrote it; re-run the method with tinyzoo bench"
                if isinstance(version_, int) and version_ < SCHEMA_VERSION
                else "a newer tiny-rnn-zoo wrote it?")
        c.fail("schema_version", f"{_short(version_)}: this tinyzoo reads version "
                                 f"{SCHEMA_VERSION} ({hint})")
    c.obj(record, "record", _RECORD_KEYS)
    c.text(record["method"], "method")
    if not SLUG_PATTERN.fullmatch(record["method"]) or set(record["method"]) == {"."}:
        c.fail("method", f"{record['method']!r} is not a slug ([A-Za-z0-9._-]+)")
    c.text(record["display_name"], "display_name")
    kind = record["kind"]
    if kind not in KINDS:
        c.fail("kind", f"{_short(kind)}: expected one of {', '.join(KINDS)}")
    if record["reads"] not in READS_VALUES:
        c.fail("reads", f"{_short(record['reads'])}: expected one of {', '.join(READS_VALUES)}")

    zoo = c.obj(record["zoo"], "zoo", _ZOO_KEYS,
                optional=("rows_per_model", "family", "split_scheme", "split_rule"))
    if ("split_scheme" in zoo) != ("split_rule" in zoo):
        c.fail("zoo.split_rule", "a record under a split scheme states its rule, and only "
               "such a record")
    if "split_rule" in zoo:
        c.text(zoo["split_rule"], "zoo.split_rule")
    if "split_scheme" in zoo and (not isinstance(zoo["split_scheme"], str)
                                  or not SLUG_PATTERN.fullmatch(zoo["split_scheme"])
                                  or zoo["split_scheme"] == "id-ranges"):
        c.fail("zoo.split_scheme", f"{_short(zoo['split_scheme'])}: a scheme's name other "
                                   "than the default id-ranges (which is not written)")
    if "family" in zoo and zoo["family"] not in families():
        c.fail("zoo.family", f"{_short(zoo['family'])}: need one of {', '.join(families())}")
    if "rows_per_model" in zoo:
        c.integer(zoo["rows_per_model"], "zoo.rows_per_model", minimum=1)
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
        c.obj(run, key, _RUN_KEYS, optional=("train_loss_per_epoch", "best_pass",
                                             "passes_run", "test_tau_per_epoch"))
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

    if record["test_tau_ci"] is not None:
        ci = c.obj(record["test_tau_ci"], "test_tau_ci", _CI_KEYS)
        c.number(ci["level"], "test_tau_ci.level", minimum=0)
        c.number(ci["low"], "test_tau_ci.low")
        c.number(ci["high"], "test_tau_ci.high")
        if ci["low"] > ci["high"]:
            c.fail("test_tau_ci", f"low {ci['low']} above high {ci['high']}")
        c.integer(ci["resamples"], "test_tau_ci.resamples", minimum=1)
        c.text(ci["method"], "test_tau_ci.method")
    c.integer(record["param_count"], "param_count", null=True, minimum=0)
    c.number(record["wall_time_s"], "wall_time_s", null=True, minimum=0)
    if record["audit"] is not None:
        audit = c.obj(record["audit"], "audit", _AUDIT_KEYS)
        c.number(audit["max_abs_diff"], "audit.max_abs_diff", minimum=0)
        c.integer(audit["num_permutations"], "audit.num_permutations", minimum=1)
        c.integer(audit["num_models"], "audit.num_models", minimum=1)

    predictions = c.obj(record["predictions"], "predictions", _PREDICTION_KEYS)
    n = len(c.array(predictions["model_id"], "predictions.model_id"))
    if len(c.array(predictions["actual_sr"], "predictions.actual_sr")) != n:
        c.fail("predictions.actual_sr", f"{len(predictions['actual_sr'])} values for {n} "
                                        "models")
    per_run = c.array(predictions["predicted_sr"], "predictions.predicted_sr")
    if n and len(per_run) != len(runs):
        c.fail("predictions.predicted_sr", f"{len(per_run)} lists for {len(runs)} runs (one "
                                           "per run)")
    for i, values in enumerate(per_run):
        if len(c.array(values, f"predictions.predicted_sr[{i}]")) != n:
            c.fail(f"predictions.predicted_sr[{i}]", f"{len(values)} values for {n} models")
        for j, value in enumerate(values):
            c.number(value, f"predictions.predicted_sr[{i}][{j}]")
    for j, model_id in enumerate(predictions["model_id"]):
        c.integer(model_id, f"predictions.model_id[{j}]", minimum=0)
    for j, value in enumerate(predictions["actual_sr"]):
        c.number(value, f"predictions.actual_sr[{j}]")

    code = record["code_fingerprint"]
    if code is not None and not (isinstance(code, str) and _SHA256.fullmatch(code)):
        c.fail("code_fingerprint", f"{_short(code)}: expected 64 lowercase hex digits or "
                                   "null")
    env = c.obj(record["environment"], "environment", _ENVIRONMENT_KEYS)
    for name in ("hardware", "platform", "python", "git_revision"):
        c.text(env[name], f"environment.{name}")
    if env["machine"] is not None:
        machine = c.obj(env["machine"], "environment.machine", MACHINE_KEYS)
        c.text(machine["id"], "environment.machine.id")
        c.text(machine["cpu"], "environment.machine.cpu")
        c.integer(machine["cores"], "environment.machine.cores", minimum=0)
        c.array(machine["isa"], "environment.machine.isa")
    versions = c.obj(env["versions"], "environment.versions", (), extra=True)
    for name, value in versions.items():
        c.text(value, f"environment.versions.{name}")

    c.text(record["created"], "created")
    try:
        datetime.fromisoformat(record["created"])
    except ValueError:
        c.fail("created", f"{record['created']!r} is not an ISO-8601 time")
    return record
