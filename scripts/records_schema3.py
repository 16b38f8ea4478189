"""Bring schema-2 result records to schema 3 (issue 30): add ``code_fingerprint`` and
``environment.machine``, change nothing else.

Schema 2 did not record either. The migration writes ``environment.machine: null`` (the
machine was not recorded) and ``code_fingerprint: null`` (the code is unknown, so a
re-run re-makes the record), except for the records of the zoos named with ``--stamp``:
those get the fingerprint of the current code, which is right only where the current
code was shown to compute them (``docs/BENCHMARKS.md``, "What was checked bitwise across
the restructuring": the ``mini`` board, 2026-12-06).

    python -m scripts.records_schema3 leaderboard/results --stamp mini-01359d67
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def migrate(record: dict, fingerprint: str | None) -> dict:
    """``record`` (schema 2) as schema 3, keys in :func:`benchmarks.results.build_record`
    order."""
    if record.get("schema_version") != 2:
        raise SystemExit(f"{record.get('method')}: schema_version "
                         f"{record.get('schema_version')}, expected 2")
    out = {}
    for key, value in record.items():
        if key == "schema_version":
            value = 3
        if key == "environment":
            value = {"hardware": value["hardware"], "machine": None,
                     **{k: v for k, v in value.items() if k != "hardware"}}
        out[key] = value
        if key == "protocol":
            out["code_fingerprint"] = fingerprint
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir")
    parser.add_argument("--stamp", action="append", default=[],
                        help="zoo key (<preset>-<sha8>) whose records get the current code "
                        "fingerprint")
    args = parser.parse_args(argv)
    from benchmarks.bench import code_fingerprint
    from benchmarks.results import read_result

    for path in sorted(Path(args.results_dir).glob("*.json")):
        record = json.loads(path.read_text())
        zoo_key = path.name.split("__", 1)[0]
        fingerprint = code_fingerprint(record["method"]) if zoo_key in args.stamp else None
        path.write_text(json.dumps(migrate(record, fingerprint), indent=2) + "\n")
        read_result(path)  # validates schema 3
        print(f"{path}: schema 3, code fingerprint "
              f"{fingerprint[:12] if fingerprint else 'null'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
