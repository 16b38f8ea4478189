"""Checks for values that come from files and the network, written once.

Every zoo input a user or a server hands in (a manifest, a config, a sidecar) passes
through these functions before anything is computed from it. Each check returns the
value (normalised where that is exact, e.g. a JSON list of ints to a tuple) or raises
:class:`~zoo_data.errors.TinyZooError` with one line naming the field and the value,
``"num_models '24': need an integer"``; callers prefix the file.

:func:`strict_json` is the one JSON parser for such files: bounded size and depth,
duplicate keys and the non-standard constants ``NaN``/``Infinity`` refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zoo_data.errors import TinyZooError

__all__ = ["show", "integer", "number", "boolean", "text", "one_of", "int_list",
           "number_list", "record", "config_object", "fingerprint", "strict_json",
           "json_depth"]

#: Default bounds of :func:`strict_json`.
MAX_JSON_BYTES = 8 << 20
MAX_JSON_DEPTH = 32


def show(value: Any, width: int = 40) -> str:
    """``repr(value)``, cut to ``width`` characters (values from files may be huge)."""
    text_ = repr(value)
    return text_ if len(text_) <= width else text_[: width - 3] + "..."


def _fail(name: str, value: Any, need: str) -> TinyZooError:
    return TinyZooError(f"{name} {show(value)}: {need}")


def integer(name: str, value: Any, lo: int, hi: int) -> int:
    """``value`` if it is an int (not a bool) in ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, value, "need an integer")
    if not lo <= value <= hi:
        raise _fail(name, value, f"need {lo} <= {name} <= {hi}")
    return value


def number(name: str, value: Any, lo: float, hi: float, *, open_low: bool = False) -> float:
    """``value`` as a float if it is a finite int or float in ``[lo, hi]`` (``(lo, hi]``
    with ``open_low``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(name, value, "need a number")
    value = float(value)
    low_ok = value > lo if open_low else value >= lo
    if not math.isfinite(value) or not low_ok or value > hi:
        low = "<" if open_low else "<="
        raise _fail(name, value, f"need {lo} {low} {name} <= {hi}")
    return value


def boolean(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise _fail(name, value, "need true or false")
    return value


def text(name: str, value: Any, pattern: str | re.Pattern, what: str) -> str:
    """``value`` if it is a string matching ``pattern`` in full (``what`` describes it)."""
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise _fail(name, value, f"need {what}")
    return value


def one_of(name: str, value: Any, choices: tuple) -> Any:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, bool) or value not in choices:
        raise _fail(name, value, f"choose one of {', '.join(map(str, choices))}")
    return value


def int_list(name: str, value: Any, lo: int, hi: int, max_len: int,
             unique: bool = False) -> tuple[int, ...]:
    """A non-empty list (or tuple) of at most ``max_len`` ints in ``[lo, hi]``, as a
    tuple."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= max_len:
        raise _fail(name, value, f"need a list of 1 to {max_len} integers")
    items = tuple(integer(f"{name}[{i}]", v, lo, hi) for i, v in enumerate(value))
    if unique and len(set(items)) != len(items):
        raise _fail(name, value, "need distinct values")
    return items


def number_list(name: str, value: Any, lo: float, hi: float,
                max_len: int) -> tuple[float, ...]:
    """A non-empty list (or tuple) of at most ``max_len`` numbers in ``[lo, hi]``, as a
    tuple of floats."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= max_len:
        raise _fail(name, value, f"need a list of 1 to {max_len} numbers")
    return tuple(number(f"{name}[{i}]", v, lo, hi) for i, v in enumerate(value))


def record(name: str, value: Any, fields: Mapping[str, Callable[[str, Any], Any]],
           required: tuple[str, ...] | None = None) -> dict:
    """Check the JSON object ``value`` field by field: ``fields`` maps each allowed key to
    ``check(qualified name, value) -> value``; ``required`` keys must be present (default:
    all). Unknown keys are refused. Returns ``{key: checked value}``."""
    if not isinstance(value, dict):
        raise _fail(name, value, "need a JSON object")
    unknown = [k for k in value if k not in fields]
    if unknown:
        raise TinyZooError(f"{name}: unknown key {show(unknown[0])}")
    for key in fields if required is None else required:
        if key not in value:
            raise TinyZooError(f"{name}: missing key {key!r}")
    return {k: fields[k](f"{name}.{k}", v) for k, v in value.items()}


def config_object(d: Any, known: Iterable[str], required: Iterable[str], family: str,
                  family_required: bool) -> dict:
    """The opening checks of a zoo config's ``from_dict``: ``d`` is a JSON object, has no
    key outside ``known`` (and ``"family"``), names ``family`` as its ``"family"`` (if
    it has one; it must with ``family_required``) and has every ``required`` key.
    Returns a copy of ``d`` without ``"family"``.

    Raises:
      TinyZooError: ``"config {d}: need a JSON object"``, ``"config: unknown key
        'x'"``, ``"config.family 'x': need 'name'"`` or ``"config: missing key 'x'"``,
        the first that applies, in that order."""
    if not isinstance(d, dict):
        raise TinyZooError(f"config {show(d)}: need a JSON object")
    allowed = {*known, "family"}
    for key in d:
        if key not in allowed:
            raise TinyZooError(f"config: unknown key {show(key)}")
    if (family_required or "family" in d) and d.get("family") != family:
        raise TinyZooError(f"config.family {show(d.get('family'))}: need {family!r}")
    for name in required:
        if name not in d:
            raise TinyZooError(f"config: missing key {name!r}")
    return {k: v for k, v in d.items() if k != "family"}


def fingerprint(d: Mapping[str, Any]) -> str:
    """A config's fingerprint: sha256 of the canonical JSON of its ``to_dict()`` ``d``
    (``json.dumps(d, sort_keys=True)``), the first 16 hex digits."""
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {show(key)}")
        obj[key] = value
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard constant {name}")


def json_depth(obj: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), iteratively."""
    deepest, stack = 0, [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def strict_json(raw: bytes | str, where: str, max_bytes: int = MAX_JSON_BYTES,
                max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse ``raw`` as JSON, refusing (one line naming ``where``): more than
    ``max_bytes`` bytes, invalid UTF-8 or JSON, a duplicate key in an object,
    ``NaN``/``Infinity``, or nesting deeper than ``max_depth``."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise TinyZooError(f"{where}: {size} bytes, more than the {max_bytes} allowed")
    try:
        obj = json.loads(raw, object_pairs_hook=_refuse_duplicates,
                         parse_constant=_refuse_constant)
    except RecursionError:
        raise TinyZooError(f"{where}: JSON nested too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError and the hooks' errors
        raise TinyZooError(f"{where}: truncated or invalid JSON ({e})") from None
    if json_depth(obj) > max_depth:
        raise TinyZooError(f"{where}: JSON nested deeper than {max_depth} levels")
    return obj
