"""Re-checking committed result records: what a re-run promises and how close it came.

A committed record states the code it was computed with (``code_fingerprint``,
:func:`benchmarks.bench.code_fingerprint`) and the machine (``environment.machine``,
:func:`benchmarks.machine.machine_fingerprint`). Re-running its method on a zoo of the
same family, preset and config (:func:`committed_record`) takes one of three paths
(:func:`choose_path`; the promise is ``docs/LEADERBOARD_RULES.md``, "What a re-run
promises"):

- ``"remake"``: no committed record, another code fingerprint or protocol, or ``force``: the record
  is computed and written to the results folder, as ``tinyzoo bench`` does;
- ``"check"``: the same code: the re-run goes to a scratch folder outside version
  control, and :func:`compare` says how close it came. Nothing committed changes.

:func:`compare`'s verdict, for committed mean test tau ``c`` (sample std ``s_c`` over
``n_c`` seeds) and re-run mean ``r`` (``s_r``, ``n_r``):

- ``reproduced bitwise``: the re-run record equals the committed one in every field but
  the volatile ones (:func:`benchmarks.results.stable_content`), on the same zoo shards;
- ``within tolerance``: ``|r - c| <= TOLERANCE_Z * sqrt(s_c^2 / n_c + s_r^2 / n_r)``, a
  two-sided test at about 95% that the two seed means differ (a difference of two seed
  means of the same method, whose scatter over seeds is the only noise left when float
  rounding changes the trajectory of training); both undefined counts as within;
- ``NOT reproduced``: otherwise; and always when the machine is the same one (same
  :func:`benchmarks.machine.machine_id`) and the zoo is bitwise the same, where the bits
  are promised.

Beside the verdict a row shows whether ``r`` lies inside the committed record's 95%
bootstrap interval of the test tau (``test_tau_ci``), the interval a reader of the board
sees.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.formatting import text_table
from benchmarks.results import read_results, stable_content, to_jsonable
from zoo_data.common.atomic import atomic_write

__all__ = [
    "BITWISE",
    "NOT_REPRODUCED",
    "TOLERANCE_Z",
    "WITHIN",
    "choose_path",
    "committed_record",
    "compare",
    "format_report",
    "write_report",
]

#: How many standard errors of the difference of two seed means a re-run may differ by.
TOLERANCE_Z = 2.0

BITWISE = "reproduced bitwise"
WITHIN = "within tolerance"
NOT_REPRODUCED = "NOT reproduced"


def _same_zoo_kind(a: dict, b: dict) -> bool:
    """Same family, preset, config and split scheme (another scheme's test set is
    another experiment)."""
    return (a.get("family") == b.get("family") and a["preset"] == b["preset"]
            and a["config_fingerprint"] == b["config_fingerprint"]
            and a.get("split_scheme") == b.get("split_scheme"))


def committed_record(results_dir: str | Path, zoo: dict, method: str) -> dict | None:
    """The record of ``method`` in ``results_dir`` for a zoo of the same family, preset,
    config fingerprint and split scheme as ``zoo`` (:func:`benchmarks.results.zoo_info`), whatever
    its shards' hashes; the one on the same shards first; ``None`` if there is none."""
    found = [r for r in read_results(results_dir)
             if r["method"] == method and _same_zoo_kind(r["zoo"], zoo)]
    found.sort(key=lambda r: r["zoo"]["manifest_sha256"] != zoo["manifest_sha256"])
    return found[0] if found else None


def choose_path(committed: dict | None, code_fingerprint: str, protocol: dict | None,
                force: bool = False) -> str:
    """``"remake"`` or ``"check"`` (module docstring) for a re-run of ``committed``'s
    method with code ``code_fingerprint`` under ``protocol`` (a re-run under another
    protocol is another experiment, so it is re-made too)."""
    if (force or committed is None or committed.get("code_fingerprint") != code_fingerprint
            or committed.get("protocol") != protocol):
        return "remake"
    return "check"


def _tau(record: dict) -> tuple[float | None, float | None, int]:
    tau = record["summary"]["test_kendall_tau"]
    return tau["mean"], tau["std"], tau["n"]


def _machine_id(record: dict) -> str | None:
    machine = (record.get("environment") or {}).get("machine")
    return machine.get("id") if isinstance(machine, dict) else None


def compare(committed: dict, rerun: dict) -> dict:
    """One report row: ``{"method", "display_name", "committed_mean", "committed_std",
    "rerun_mean", "rerun_std", "seeds", "difference", "tolerance", "committed_ci",
    "rerun_in_committed_ci", "same_zoo", "same_machine", "committed_machine",
    "rerun_machine", "verdict"}`` (module docstring for the verdict)."""
    c_mean, c_std, c_n = _tau(committed)
    r_mean, r_std, r_n = _tau(rerun)
    same_zoo = committed["zoo"]["manifest_sha256"] == rerun["zoo"]["manifest_sha256"]
    c_machine, r_machine = _machine_id(committed), _machine_id(rerun)
    same_machine = c_machine is not None and c_machine == r_machine
    difference = tolerance = None
    if c_mean is not None and r_mean is not None:
        difference = r_mean - c_mean
        tolerance = TOLERANCE_Z * math.sqrt(
            ((c_std or 0.0) ** 2) / max(c_n, 1) + ((r_std or 0.0) ** 2) / max(r_n, 1))
    ci = committed.get("test_tau_ci")
    in_ci = (None if ci is None or r_mean is None
             else bool(ci["low"] <= r_mean <= ci["high"]))
    if same_zoo and stable_content(committed) == stable_content(rerun):
        verdict = BITWISE
    elif same_zoo and same_machine:
        verdict = NOT_REPRODUCED  # the bits are promised here
    elif (c_mean is None and r_mean is None) or (
            difference is not None and abs(difference) <= tolerance):
        verdict = WITHIN
    else:
        verdict = NOT_REPRODUCED
    return to_jsonable({
        "method": committed["method"], "display_name": committed["display_name"],
        "committed_mean": c_mean, "committed_std": c_std, "rerun_mean": r_mean,
        "rerun_std": r_std, "seeds": r_n, "difference": difference, "tolerance": tolerance,
        "committed_ci": None if ci is None else [ci["low"], ci["high"]],
        "rerun_in_committed_ci": in_ci, "same_zoo": same_zoo, "same_machine": same_machine,
        "committed_machine": (committed.get("environment") or {}).get("machine"),
        "rerun_machine": (rerun.get("environment") or {}).get("machine"),
        "verdict": verdict,
    })


def _mean_std(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "undefined"
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def format_report(rows: list[dict]) -> str:
    """The report as an aligned text table, one line per method: committed and re-run
    mean ± std, their difference against the tolerance, whether the re-run mean lies in
    the committed 95% interval, and the verdict."""
    body = []
    for row in rows:
        in_ci = {True: "yes", False: "no", None: "—"}[row["rerun_in_committed_ci"]]
        tol = "—" if row["tolerance"] is None else f"±{row['tolerance']:.4f}"
        body.append([
            row["display_name"],
            _mean_std(row["committed_mean"], row["committed_std"]),
            _mean_std(row["rerun_mean"], row["rerun_std"]),
            "—" if row["difference"] is None else f"{row['difference']:+.4f}",
            tol, in_ci, row["verdict"]])
    return text_table(["method", "committed", "re-run", "difference", "tolerance",
                       "in committed CI", "verdict"], body)


def write_report(rows: list[dict], out_dir: str | Path, header: dict) -> Path:
    """Write ``report.json`` (``{**header, "tolerance_z", "rows"}``) and ``report.md``
    (the header's lines and :func:`format_report`) into ``out_dir``; returns the JSON
    path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    document = to_jsonable({**header, "tolerance_z": TOLERANCE_Z, "rows": rows})
    path = out_dir / "report.json"
    atomic_write(path, (json.dumps(document, indent=2, allow_nan=False) + "\n").encode())
    lines = ["# Reproduction report", ""]
    lines += [f"- {key}: {value}" for key, value in header.items()]
    lines += ["", "```text", format_report(rows), "```", ""]
    atomic_write(out_dir / "report.md", "\n".join(lines).encode())
    return path
