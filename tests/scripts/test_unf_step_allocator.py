"""The allocator benchmark (:mod:`scripts.unf_step_allocator`): each child gets exactly
one allocator preloaded (and never the command line's own choice), medians are taken over
rounds, and the bits of the step's outputs are compared by hash."""

from __future__ import annotations

import pytest

from scripts.unf_step_allocator import child_env, run_once, summarise


def test_a_child_preloads_only_the_allocator_it_measures(monkeypatch):
    monkeypatch.setenv("LD_PRELOAD", "/somewhere/libtcmalloc.so.4")
    monkeypatch.setenv("TINYZOO_MALLOC", "tcmalloc")
    env = child_env(None, {})
    assert "LD_PRELOAD" not in env and "TINYZOO_MALLOC" not in env
    env = child_env("/lib/libjemalloc.so.2", {"MALLOC_CONF": "dirty_decay_ms:-1"})
    assert env["LD_PRELOAD"] == "/lib/libjemalloc.so.2"
    assert env["MALLOC_CONF"] == "dirty_decay_ms:-1" and env["JAX_PLATFORMS"] == "cpu"


def test_summarise_takes_medians_and_keeps_every_distinct_hash():
    runs = [{"step_ms": s, "gflop": 2.0, "matmul_2048_gflop_per_s": r, "faults_per_step": f,
             "outputs_sha256": h}
            for s, r, f, h in ((30.0, 400.0, 9, "a"), (10.0, 100.0, 1, "a"),
                               (20.0, 200.0, 5, "b"))]
    row = summarise(runs)
    assert row["step_ms"] == 20.0 and row["faults_per_step"] == 5
    assert row["flop_bound_ms"] == pytest.approx(10.0)  # 2 GFLOP at 200 GFLOP/s
    assert row["step_over_bound"] == pytest.approx(2.0)
    assert row["outputs_sha256"] == ["a", "b"]  # differing bits are not hidden


def test_one_process_times_the_step_and_hashes_its_outputs():
    r = run_once(child_env(None, {}), hidden=4, repeats=2)
    assert r["step_ms"] > 0 and r["gflop"] > 0 and r["faults_per_step"] >= 0
    assert len(r["outputs_sha256"]) == 64
