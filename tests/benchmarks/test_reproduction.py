"""What a re-run promises (``docs/LEADERBOARD_RULES.md``): a record made by the same
code is re-checked, bitwise on the same machine and within a documented tolerance on
another one, and never rewritten; another code fingerprint, another protocol or
``--force`` re-makes it; the README's main job leaves a git checkout clean."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import reproduction
from benchmarks.machine import machine_fingerprint, machine_id, machine_text
from benchmarks.protocol_config import ProtocolConfig
from benchmarks.reproduction import BITWISE, NOT_REPRODUCED, WITHIN, choose_path, compare
from benchmarks.table1 import reproduce_table1
from tests.fixtures.records import make_record

REPO = Path(__file__).resolve().parents[2]
FAST = ProtocolConfig(epochs=1, passes_per_epoch=1, patience=None, batch_size=8)

INTEL = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 207
model name\t: Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz
flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma avx512f avx512bw avx512vl amx_tile hypervisor

processor\t: 1
model name\t: ignored: only the first processor is read
"""
AMD_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse4_1 sse4_2 avx avx2 fma
"""


# --------------------------------------------------------------------------- machine


def test_a_fingerprint_names_the_cpu_its_vector_extensions_cores_and_versions():
    intel = machine_fingerprint(INTEL, {"l1d": 48, "l2": 2048}, cores=2, xla_flags="")
    assert intel["cpu"] == "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz"
    assert (intel["vendor"], intel["family"], intel["model"]) == ("GenuineIntel", 6, 207)
    assert intel["isa"] == ["sse4_1", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw",
                            "avx512vl", "amx_tile"]  # in ISA_FLAGS order, fpu dropped
    assert intel["cores"] == 2 and intel["backend"] == "cpu"
    assert intel["id"] == machine_id(intel) and len(intel["id"]) == 12
    assert machine_text(intel).startswith("Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz "
                                          "(family 6, model 207), 2 cores, AVX-512")
    assert machine_text(None) == "machine not recorded"


@pytest.mark.parametrize("change", [
    {"cpuinfo": AMD_AVX2}, {"cache_kib": {"l1d": 48, "l2": 4096}}, {"cores": 1},
    {"xla_flags": "--xla_cpu_max_isa=AVX2"},
])
def test_each_thing_that_decides_the_bits_changes_the_id(change):
    base = {"cpuinfo": INTEL, "cache_kib": {"l1d": 48, "l2": 2048}, "cores": 2,
            "xla_flags": ""}
    assert machine_fingerprint(**base)["id"] == machine_fingerprint(**base)["id"]
    assert machine_fingerprint(**{**base, **change})["id"] != machine_fingerprint(**base)["id"]


# --------------------------------------------------------------------------- paths


def test_the_path_is_a_check_only_for_the_same_code_and_protocol():
    record = make_record("statnn", [0.5, 0.6])
    record["code_fingerprint"] = "a" * 64
    protocol = record["protocol"]
    assert choose_path(record, "a" * 64, protocol) == "check"
    assert choose_path(record, "b" * 64, protocol) == "remake"
    assert choose_path(record, "a" * 64, {**protocol, "epochs": 100}) == "remake"
    assert choose_path(record, "a" * 64, protocol, force=True) == "remake"
    assert choose_path(None, "a" * 64, protocol) == "remake"
    record["code_fingerprint"] = None  # made before fingerprints were recorded
    assert choose_path(record, "a" * 64, protocol) == "remake"


def _on(record: dict, machine: str) -> dict:
    out = copy.deepcopy(record)
    out["environment"]["machine"] = {**machine_fingerprint(cores=2), "id": machine}
    return out


def test_compare_gives_bitwise_within_and_not_reproduced():
    committed = _on(make_record("statnn", [0.50, 0.60, 0.55]), "aaaaaaaaaaaa")
    rerun = _on(committed, "bbbbbbbbbbbb")
    rerun["created"], rerun["wall_time_s"] = "2030-01-01T00:00:00+00:00", 1.0
    row = compare(committed, rerun)
    assert row["verdict"] == BITWISE and row["difference"] == 0.0

    # another machine: the seeds drift a little, by less than the tolerance
    # (6 test models: taus 0.5, 0.6, 0.55 are 7/15, 9/15, 9/15; these 7/15, 9/15, 11/15)
    drifted = _on(make_record("statnn", [0.50, 0.60, 0.70]), "bbbbbbbbbbbb")
    row = compare(committed, drifted)
    c, r = committed["summary"]["test_kendall_tau"], drifted["summary"]["test_kendall_tau"]
    expected = 2.0 * ((c["std"] ** 2 + r["std"] ** 2) / 3) ** 0.5
    assert row["tolerance"] == pytest.approx(expected)
    assert row["verdict"] == WITHIN and not row["same_machine"]
    assert row["difference"] == pytest.approx(r["mean"] - c["mean"])

    # the same drift on the machine that made it: the bits were promised
    row = compare(committed, _on(drifted, "aaaaaaaaaaaa"))
    assert row["same_machine"] and row["verdict"] == NOT_REPRODUCED

    far = _on(make_record("statnn", [-1.0, -1.0, -1.0]), "bbbbbbbbbbbb")
    row = compare(committed, far)
    assert row["verdict"] == NOT_REPRODUCED and row["rerun_in_committed_ci"] is False


def test_two_undefined_taus_are_within_tolerance():
    committed = _on(make_record("constant", [None, None]), "aaaaaaaaaaaa")
    rerun = _on(make_record("constant", [None, None]), "bbbbbbbbbbbb")
    rerun["predictions"]["predicted_sr"][0][0] += 1e-3  # other bits, still constant-ish
    assert compare(committed, rerun)["verdict"] in (WITHIN, BITWISE)
    rerun["seeds"] = [7, 8]
    assert compare(committed, rerun)["verdict"] == WITHIN


# --------------------------------------------------------------------------- the job


def _table1(reference, tmp_path, **kwargs):
    return reproduce_table1("tiny", reference, seeds=1, methods=["hparams"], config=FAST,
                            results_dir=tmp_path / "results",
                            leaderboard_dir=tmp_path / "board", progress=False,
                            log=None, reproduction_dir=tmp_path / "repro", **kwargs)


def test_remake_then_bitwise_check_then_report_then_remake(reference, tmp_path,
                                                           monkeypatch):
    import benchmarks.results as results

    other = machine_fingerprint(INTEL, {"l1d": 48, "l2": 2048}, cores=2)
    monkeypatch.setattr(results, "machine_fingerprint", lambda: other)
    (row,) = _table1(reference, tmp_path)  # made on a simulated other machine
    assert row["path"] == "remake" and row["reproduction"] is None
    path = Path(row["result_file"])
    made = json.loads(path.read_text())
    assert made["environment"]["machine"]["id"] == other["id"]
    assert len(made["code_fingerprint"]) == 64
    assert (tmp_path / "board" / "LEADERBOARD.md").is_file()
    monkeypatch.undo()

    # re-checked here: another machine, so a report; the same bits here, as it happens
    before = path.read_bytes()
    (row,) = _table1(reference, tmp_path)
    assert row["path"] == "check" and path.read_bytes() == before
    check = row["reproduction"]
    assert not check["same_machine"] and check["verdict"] in (BITWISE, WITHIN)
    report = json.loads((tmp_path / "repro" / "tiny" / "report.json").read_text())
    assert report["rows"] == [check] and report["tolerance_z"] == reproduction.TOLERANCE_Z
    assert "Hyperparameters only" in (tmp_path / "repro" / "tiny" / "report.md").read_text()

    # committed numbers that this code cannot give: the report says so, the file stays
    altered = json.loads(before)
    altered["summary"]["test_kendall_tau"]["mean"] += 0.5
    path.write_text(json.dumps(altered, indent=2) + "\n")
    (row,) = _table1(reference, tmp_path)
    assert row["reproduction"]["verdict"] == NOT_REPRODUCED
    assert json.loads(path.read_text()) == altered

    # the same machine: a bitwise re-check
    here = json.loads(before)
    here["environment"]["machine"] = machine_fingerprint()
    path.write_text(json.dumps(here, indent=2) + "\n")
    (row,) = _table1(reference, tmp_path)
    assert row["reproduction"]["same_machine"]
    assert row["reproduction"]["verdict"] == BITWISE

    # another code fingerprint: re-made; so is everything with force
    here["code_fingerprint"] = "0" * 64
    path.write_text(json.dumps(here, indent=2) + "\n")
    (row,) = _table1(reference, tmp_path)
    assert row["path"] == "remake"
    assert json.loads(path.read_text())["code_fingerprint"] == made["code_fingerprint"]
    (row,) = _table1(reference, tmp_path, force=True)
    assert row["path"] == "remake"


def test_the_main_job_leaves_a_git_checkout_clean(reference, tmp_path):
    """The README's main job in miniature: a checkout with committed records of another
    machine; ``tinyzoo reproduce table1`` re-checks them and ``git status`` stays empty."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(REPO / ".gitignore", clone / ".gitignore")
    zoo = clone / "data" / "zoos" / "tiny"
    shutil.copytree(reference, zoo)
    _table1(reference, clone)  # the committed records: results/ and board/ in the clone
    for record_path in (clone / "results").glob("*.json"):
        record = json.loads(record_path.read_text())
        record["environment"]["machine"] = machine_fingerprint(INTEL, {}, cores=2)
        record_path.write_text(json.dumps(record, indent=2) + "\n")
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-c", "init.defaultBranch=m"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "records"]):
        subprocess.run([*git, *args], cwd=clone, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "tinyzoo", "reproduce", "table1", "--preset", "tiny",
         "--methods", "hparams", "--seeds", "1", "--epochs", "1", "--passes-per-epoch", "1",
         "--batch-size", "8",
         "--results-dir", "results", "--leaderboard-dir", "board", "--quiet"],
        cwd=clone, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Reproduction of the committed records (1 re-checked" in result.stdout
    assert "reproduced bitwise" in result.stdout or "within tolerance" in result.stdout
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone,
                            capture_output=True, text=True, check=True)
    assert status.stdout == ""
    assert (clone / "data" / "reproductions" / "tiny" / "report.md").is_file()
