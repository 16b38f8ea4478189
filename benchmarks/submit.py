"""Score a submission: a CSV of predicted success rates for a zoo's test split.

The file (UTF-8, one model per line)::

    # zoo_manifest_sha256=<sha256 of the zoo's manifest.json>     (optional first line)
    model_id,predicted_sr
    9000,0.8125
    9001,0.03
    ...

must hold exactly one row per model of the zoo's test split (any order), each
``predicted_sr`` a finite number in ``[0, 1]``. A file with any problem is refused as a
whole, with every problem listed in one line, and nothing is written: a wrong or
missing header, an empty file, a row without two fields, an id that is not an
integer, missing, duplicate or unknown ids (ids of the train and validation splits are
named as such: only test models are scored), a value that is not a number, ``NaN``,
``inf`` or outside ``[0, 1]``, digits other than ASCII ``0-9`` in an id or a value, a
line over :data:`MAX_LINE` characters, and a ``zoo_manifest_sha256`` comment (the full sha256
or a prefix of at least 8 hex digits) naming another zoo. A file made for another zoo
fails the id checks when that zoo's test ids differ; two zoos with the same model count
share test ids, so only the comment line tells them apart: write it.

A valid file becomes a result record (:mod:`benchmarks.results`) of kind
``"submission"``: no protocol, no seeds, one run with the test metrics of
:func:`benchmarks.metrics.all_metrics`.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.metrics import all_metrics
from benchmarks.provenance import publish_labels
from benchmarks.results import (
    build_record,
    check_slug,
    read_result,
    result_filename,
    write_result,
    zoo_info,
)
from zoo_data.archive.splits import split_of
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["HEADER", "SubmitReport", "parse_submission", "submission_record", "submit"]

#: The header line's two column names (either order is accepted).
HEADER: tuple[str, str] = ("model_id", "predicted_sr")

_COMMENT = re.compile(r"#\s*zoo_manifest_sha256\s*=\s*(\S*)\s*")
_INTEGER = re.compile(r"[+-]?[0-9]+")
#: A number as Python writes one, in ASCII digits only (``float`` would also take
#: Arabic-Indic or full-width digits).
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)",
                     re.IGNORECASE)
#: The longest line a submission may hold (a model id, a comma and a number need far
#: fewer): a longer one is refused before it is parsed.
MAX_LINE = 1000
_SHOWN = 5  # items listed per problem before "..."


@dataclass(frozen=True)
class SubmitReport:
    """What :func:`submit` did: the record written, its path, and whether it replaced an
    earlier submission of the same name on the same zoo."""

    path: Path
    record: dict
    replaced: bool


def _spans(values: list[int]) -> list[str]:
    """Sorted distinct ints as ``["3", "7-9", ...]`` (runs of consecutive values joined)."""
    out: list[str] = []
    values = sorted(set(values))
    start = prev = None
    for v in [*values, None]:
        if v is not None and prev is not None and v == prev + 1:
            prev = v
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = v
    return out


def _listing(noun: str, plural: str, values: list[int]) -> str:
    """``"missing id 7"``, ``"missing ids 7, 9 (2)"``, ``"missing ids 0-999 (1000)"``,
    at most :data:`_SHOWN` spans then ``...``."""
    spans = _spans(values)
    n = len(set(values))
    if n == 1:
        return f"{noun} {spans[0]}"
    shown = ", ".join(spans[:_SHOWN]) + (", ..." if len(spans) > _SHOWN else "")
    return f"{plural} {shown} ({n})"


def _at_lines(single: str, plural: str, items: list[tuple[int, str]]) -> str:
    """One problem found on several lines: ``single.format(line=, detail=)`` for one
    item, else ``"<plural> at lines 5 (detail), 9 (detail) (2)"``; ``items`` are
    ``(line number, detail)``, at most :data:`_SHOWN` listed then ``...``."""
    if len(items) == 1:
        line, detail = items[0]
        return single.format(line=line, detail=detail)
    shown = ", ".join(f"{line} ({detail})" if detail else str(line)
                      for line, detail in items[:_SHOWN])
    more = ", ..." if len(items) > _SHOWN else ""
    return f"{plural} at lines {shown}{more} ({len(items)})"


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise TinyZooError(f"{path}: no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TinyZooError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TinyZooError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def parse_submission(path: str | os.PathLike, zoo: Zoo) -> np.ndarray:
    """The predicted success rates of ``path`` for ``zoo``'s test split, ``(n_test,)``
    float64 in ``zoo.model_ids`` order (``zoo`` is the zoo restricted to ``"test"``).

    Raises:
      TinyZooError: ``"<path>: <k> problems: <p1>; <p2>; ..."`` listing every problem
        found (module docstring), on one line.
    """
    path = Path(path)
    if zoo.split != "test":
        raise ValueError(f"parse_submission needs the zoo's test split, got {zoo.split!r}")
    text = _read_text(path)
    if not text.strip():
        raise TinyZooError(f"{path}: empty file (expected the header line "
                           f"{','.join(HEADER)} and one row per test model)")

    test_ids = zoo.model_ids
    problems: list[str] = []
    bad_fields: list[tuple[int, str]] = []
    bad_ids: list[tuple[int, str]] = []
    non_numeric: list[tuple[int, str]] = []
    nans: list[tuple[int, str]] = []
    infs: list[tuple[int, str]] = []
    out_of_range: list[tuple[int, str]] = []
    stray_comments: list[tuple[int, str]] = []
    lines_of: dict[int, list[int]] = {}
    values: dict[int, float] = {}
    columns = (0, 1)  # positions of model_id and predicted_sr
    seen_header = seen_first = False
    rows = 0

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        first, seen_first = not seen_first, True
        if line.lstrip().startswith("#"):
            if not first:
                stray_comments.append((number, ""))
                continue
            match = _COMMENT.fullmatch(line.strip())
            sha = match.group(1).lower() if match else ""
            if not match or not re.fullmatch(r"[0-9a-f]{8,64}", sha):
                problems.append(
                    f"comment at line {number} is not '# zoo_manifest_sha256=<sha256 of the "
                    "zoo's manifest.json>'"
                )
            elif not zoo.manifest_sha256.startswith(sha):
                problems.append(
                    f"zoo_manifest_sha256 {sha[:12]}{'...' if len(sha) > 12 else ''} at line "
                    f"{number} is another zoo's "
                    f"(this zoo's is {zoo.manifest_sha256[:12]}...)"
                )
            continue
        if len(line) > MAX_LINE:
            problems.append(f"line {number} is longer than {MAX_LINE:,} characters")
            continue
        try:
            fields = [field.strip() for field in next(csv.reader([line]))]
        except csv.Error as exc:
            problems.append(f"line {number} is not a CSV row ({exc})")
            continue
        if not seen_header:
            seen_header = True
            if len(fields) == 2 and set(fields) == set(HEADER):
                columns = (fields.index("model_id"), fields.index("predicted_sr"))
                continue
            if len(fields) == 2 and _INTEGER.fullmatch(fields[0]):
                problems.append(f"missing header line {','.join(HEADER)} (line {number} "
                                "holds data)")
            else:
                problems.append(f"header {line.strip()[:40]!r} at line {number}: expected "
                                f"{','.join(HEADER)}")
                continue
        rows += 1
        if len(fields) != 2:
            bad_fields.append((number, str(len(fields))))
            continue
        id_text, value_text = fields[columns[0]], fields[columns[1]]
        if not _INTEGER.fullmatch(id_text) or len(id_text) > 18:  # int64 ids only
            bad_ids.append((number, repr(id_text[:20])))
            model_id = None
        else:
            model_id = int(id_text)
            lines_of.setdefault(model_id, []).append(number)
        try:
            if not _NUMBER.fullmatch(value_text):
                raise ValueError(value_text)
            value = float(value_text)
        except ValueError:
            non_numeric.append((number, repr(value_text[:20])))
            continue
        if math.isnan(value):
            nans.append((number, ""))
        elif math.isinf(value):
            infs.append((number, ""))
        elif not 0.0 <= value <= 1.0:
            out_of_range.append((number, value_text[:20]))
        elif model_id is not None:
            values[model_id] = value

    if not seen_header:
        problems.append(f"no header line {','.join(HEADER)} and no prediction rows")
    elif rows == 0:
        problems.append(f"no prediction rows (expected {len(test_ids)}, one per test model)")
    else:
        given = np.array(sorted(lines_of), dtype=np.int64)
        test_set = set(test_ids.tolist())
        missing = sorted(test_set - set(lines_of))
        if missing:
            problems.append(_listing("missing id", "missing ids", missing))
        duplicates = sorted(i for i, lines in lines_of.items() if len(lines) > 1)
        if duplicates:
            shown = ", ".join(f"{i} (lines {', '.join(map(str, lines_of[i][:3]))}"
                              f"{', ...' if len(lines_of[i]) > 3 else ''})"
                              for i in duplicates[:_SHOWN])
            more = ", ..." if len(duplicates) > _SHOWN else ""
            noun = "duplicate id" if len(duplicates) == 1 else "duplicate ids"
            count = f" ({len(duplicates)})" if len(duplicates) > 1 else ""
            problems.append(f"{noun} {shown}{more}{count}")
        unknown = given[~np.isin(given, test_ids)]
        where = split_of(zoo.config, unknown)
        for split in ("train", "val"):
            ids = unknown[where == split].tolist()
            if ids:
                problems.append(
                    _listing(f"id of a {split}-split model", f"ids of {split}-split models",
                             ids) + " (only the test split is scored)"
                )
        foreign = unknown[where == ""].tolist()
        if foreign:
            problems.append(_listing("unknown id", "unknown ids", foreign)
                            + f" (the zoo has ids 0-{zoo.config.num_models - 1})")
        if len(given) and not np.isin(given, test_ids).any():
            lo, hi = int(test_ids[0]), int(test_ids[-1])
            problems.append(f"no id of this zoo's test split ({lo}-{hi}): a file for "
                            "another zoo?")
    for single, plural, items in (
        ("stray comment at line {line} (only the first line may be a comment)",
         "stray comments (only the first line may be a comment)", stray_comments),
        ("{detail} fields at line {line} (expected 2)", "rows without 2 fields", bad_fields),
        ("model id {detail} at line {line} is not an integer", "model ids not integers",
         bad_ids),
        ("value {detail} at line {line} is not a number", "values not numbers", non_numeric),
        ("NaN at line {line}", "NaN", nans),
        ("inf at line {line}", "inf", infs),
        ("value {detail} outside [0, 1] at line {line}", "values outside [0, 1]",
         out_of_range),
    ):
        if items:
            problems.append(_at_lines(single, plural, items))

    if problems:
        count = f"{len(problems)} problems: " if len(problems) > 1 else ""
        raise TinyZooError(f"{path}: {count}{'; '.join(problems)}")
    return np.array([values[int(i)] for i in test_ids], dtype=np.float64)


def submission_record(name: str, zoo: Zoo, predicted: np.ndarray) -> dict:
    """The result record of a parsed submission ``predicted (n_test,)`` named ``name``
    on ``zoo``'s test split (kind ``"submission"``, not yet validated)."""
    # scored and stored in float64, as the protocol stores them and the board recomputes
    actual = zoo.labels.astype(np.float64)
    run = {
        "seed": None, "best_epoch": None, "epochs_run": None, "val": None,
        "test": all_metrics(predicted, actual), "val_tau_per_epoch": [],
        "param_count": None, "wall_time_s": None,
    }
    return build_record(
        method=name, display_name=name, kind="submission", reads="unknown",
        zoo=zoo_info(zoo), runs=[run], seeds=[],
        predictions={"model_id": zoo.model_ids, "predicted_sr": [predicted],
                     "actual_sr": actual},
    )


def submit(
    predictions_csv: str | os.PathLike, zoo_dir: str | os.PathLike, name: str,
    results_dir: str | os.PathLike,
) -> SubmitReport:
    """Check ``predictions_csv`` against the test split of the zoo in ``zoo_dir``, score
    it and write its record into ``results_dir`` as method ``name``.

    Nothing is written unless the file is valid. An earlier submission of the same name
    on the same zoo is replaced; a ``builtin`` or ``user`` result of that name is not
    (``TinyZooError``: choose another name).
    """
    check_slug(name, "name")
    zoo = open_local_zoo(zoo_dir, "test")
    predicted = parse_submission(predictions_csv, zoo)
    record = submission_record(name, zoo, predicted)
    target = Path(results_dir) / result_filename(record)
    replaced = False
    if target.exists():
        existing = read_result(target)
        if existing["kind"] != "submission":
            raise TinyZooError(
                f"name {name}: {target} holds a {existing['kind']} result of that name on "
                "this zoo; choose another name"
            )
        replaced = True
    path = write_result(record, results_dir)
    publish_labels(zoo, results_dir)
    return SubmitReport(path, record, replaced)
