"""Data-scaling curves (benchmarks/data_scaling.py, scripts/data_scaling.py): runs on
nested training subsets, saved one by one and resumed, summarised with intervals, and a
projection that is exactly the least-squares line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import data_scaling
from benchmarks.data_scaling import plot_scaling, projection, run_scaling, summarise
from benchmarks.protocol_config import ProtocolConfig
from scripts import data_scaling as script
from zoo_data.errors import TinyZooError
from zoo_data.zoo import open_local_zoo

QUICK = ProtocolConfig(epochs=2, passes_per_epoch=1, patience=None)


def test_runs_are_saved_one_by_one_resumed_and_rerun_for_other_code(bench_zoo_dir, tmp_path,
                                                                   monkeypatch):
    zoo = open_local_zoo(bench_zoo_dir)
    out = tmp_path / "scaling.json"
    lines = []

    def stop_after_two(line):
        lines.append(line)
        if len(lines) == 2:
            raise KeyboardInterrupt  # the run is killed after its second point
    with pytest.raises(KeyboardInterrupt):
        run_scaling(zoo, ["hparams", "statnn"], [6, 24], 2, out, QUICK, log=stop_after_two)
    assert len(json.loads(out.read_text())["runs"]) == 2

    data = run_scaling(zoo, ["hparams", "statnn"], [6, 24], 2, out, QUICK, log=None)
    assert sorted((r["method"], r["train_models"], r["seed"]) for r in data["runs"]) == \
        sorted((m, n, s) for m in ("hparams", "statnn") for n in (6, 24) for s in (0, 1))
    test_ids = zoo.with_split("test").model_ids.tolist()
    assert data["test_model_ids"] == test_ids
    assert all(len(r["test_predicted"]) == len(test_ids) for r in data["runs"])

    def no_run(*args, **kwargs):
        raise AssertionError("a saved run was run again")
    monkeypatch.setattr(data_scaling, "run_protocol", no_run)
    assert run_scaling(zoo, ["hparams", "statnn"], [6, 24], 2, out, QUICK)["runs"] == \
        data["runs"]

    monkeypatch.undo()
    real = data_scaling.code_fingerprint
    monkeypatch.setattr(data_scaling, "code_fingerprint",
                        lambda m: "0" * 64 if m == "statnn" else real(m))
    rerun = run_scaling(zoo, ["hparams", "statnn"], [6, 24], 2, out, QUICK, log=None)
    assert {r["code_fingerprint"] for r in rerun["runs"] if r["method"] == "statnn"} == \
        {"0" * 64}  # statnn's four runs were made again, hparams' kept
    kept = [r for r in rerun["runs"] if r["method"] == "hparams"]
    assert kept == [r for r in data["runs"] if r["method"] == "hparams"]

    rows = summarise(rerun, zoo.with_split("test").labels, rerun["context"]["zoo"])
    assert [(r["method"], r["train_models"], r["seeds"]) for r in rows] == \
        [("hparams", 6, 2), ("hparams", 24, 2), ("statnn", 6, 2), ("statnn", 24, 2)]
    for row in rows:
        taus = [r["test_tau"] for r in rerun["runs"]
                if (r["method"], r["train_models"]) == (row["method"], row["train_models"])]
        assert row["mean"] == pytest.approx(np.mean(taus))
        if row["low"] is not None:
            assert row["low"] <= row["high"]


def test_a_size_beyond_the_train_split_is_refused(bench_zoo_dir, tmp_path, capsys):
    with pytest.raises(TinyZooError, match="train models 49: the zoo has 48"):
        run_scaling(open_local_zoo(bench_zoo_dir), ["hparams"], [49], 1, tmp_path / "s.json")
    code = script.main(["--zoo", str(bench_zoo_dir), "--sizes", "0", "--json",
                        str(tmp_path / "s.json")])
    assert code == 2 and "train models 0" in capsys.readouterr().err


def test_the_projection_is_a_power_law_in_the_gap_to_one(tmp_path):
    """``1 - tau = a n^-b`` exactly on the points: the projection is that law at 8,000,
    below 1 however steep the trend."""
    rows = [{"method": "a", "train_models": n, "mean": 1 - 3.0 * n ** -0.4,
             "low": None, "high": None} for n in (100, 200, 400, 800)]
    rows += [{"method": "b", "train_models": n, "mean": 0.7, "low": 0.6, "high": 0.8}
             for n in (100, 800)]  # two sizes: no line is drawn through them
    p = projection(rows)
    assert set(p) == {"a"}
    assert p["a"]["projected_tau"] == pytest.approx(1 - 3.0 * 8000 ** -0.4)
    assert p["a"]["exponent"] == pytest.approx(0.4)
    steep = [{"method": "s", "train_models": n, "mean": m, "low": None, "high": None}
             for n, m in ((20, 0.24), (40, 0.45), (80, 0.66))]
    assert projection(steep)["s"]["projected_tau"] < 1
    png = plot_scaling(rows, p, {"a": "A"}, "title", tmp_path / "f.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
