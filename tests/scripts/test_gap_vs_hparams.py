"""The gain over the hparams reference, read from the committed board records."""

from __future__ import annotations

from pathlib import Path

from scripts.gap_vs_hparams import gaps, main

RESULTS = Path(__file__).resolve().parents[2] / "leaderboard" / "results"


def test_gains_over_hparams_on_the_committed_small_board(capsys):
    rows = {r["method"]: r for r in gaps("small-e1e3e85c", RESULTS)}
    assert set(rows) == {"unf", "statnn", "deep-sets", "probegen", "linear-stats"}
    for row in rows.values():
        assert row["low"] <= row["gain"] <= row["high"]
    # as the committed records say: on recipe 1 STATNN ranks below the hyperparameters
    assert rows["statnn"]["high"] < 0
    assert main(["small-e1e3e85c", "--results", str(RESULTS)]) == 0
    assert "small-e1e3e85c statnn: -0.0307" in capsys.readouterr().out
