"""``tinyzoo reproduce table2 --zoo DIR``: NFN's Table 2 (Kendall's tau of
generalisation predictors on the Small CNN Zoo; Zhou et al. 2023) on an imported zoo.

Runs every built-in predictor that applies to the zoo (:func:`benchmarks.bench.run_benchmark`,
resumable per seed) under the benchmark's protocol (train on train, select the epoch
on val Kendall's tau, test once) and prints ours beside NFN's published figures for the
same dataset. NFN's predictors are matched to ours by what they compute: NFN's STATNN to
our STATNN (the same seven statistics of each tensor; our head is the paper's 6-layer
MLP), NFN-HNP to our UNF (the same hidden-neuron-permutation weight space, at NFN's
sizes: :class:`predictors.unf_predictor.UNFPredictor` on a CNN zoo). NFN-NP (which also
permutes the network's input and output) has no counterpart. The protocol's defaults
here are NFN's training setup (Adam 1e-3, batch 8, 50 epochs, binary cross-entropy,
best-validation-tau epoch); NFN's figures are for its split of the last checkpoint
(``tinyzoo import small-cnn-zoo`` defaults), so other splits show them as context only.
"""

from __future__ import annotations

import os

from benchmarks.formatting import fmt_tau_pm, record_tau_reason, text_table
from benchmarks.protocol_config import ProtocolConfig
from zoo_data.errors import TinyZooError
from zoo_data.families.registry import CNN_FAMILY, family_named

__all__ = ["NFN_PROTOCOL", "NFN_COUNTERPART", "nfn_figures", "reproduce_table2",
           "format_table2"]

#: NFN's training setup for its Table 2 (its ``predict_gen`` configs): Adam at 1e-3 on
#: binary cross-entropy, batch 8, 50 epochs of one pass each, no early stopping.
NFN_PROTOCOL = ProtocolConfig(epochs=50, passes_per_epoch=1, patience=None, batch_size=8)

#: Our built-in -> NFN's row it corresponds to (a method of the Small CNN Zoo's published
#: figures, :func:`nfn_figures`).
NFN_COUNTERPART = {"statnn": "STATNN", "unf": "NFN-HNP"}


def nfn_figures(preset: str) -> dict[str, tuple[float, float | None]]:
    """NFN's Table 2 for a Small CNN Zoo of ``preset``, method -> (mean, std): what the
    family publishes for it (:meth:`zoo_data.families.base.ZooFamily.published_results`);
    empty for a preset NFN does not report on."""
    published = family_named(CNN_FAMILY).published_results(preset)
    return dict(published.rows) if published is not None else {}


def reproduce_table2(
    zoo_dir: str | os.PathLike,
    seeds: int = 5,
    methods: list[str] | None = None,
    config: ProtocolConfig | None = None,
    results_dir: str | os.PathLike = "leaderboard/results",
    leaderboard_dir: str | os.PathLike = "leaderboard",
    progress: bool = True,
) -> list[dict]:
    """Run Table 2 (module docstring) on the imported zoo in ``zoo_dir``; returns rows
    ``{"method", "display_name", "mean", "std", "n", "undefined_reason", "nfn_mean",
    "nfn_std", "nfn_row", "param_count", "audit", "result_file", "not_applicable"}``
    (a method that does not apply to the zoo has only its name and ``not_applicable``,
    the reason).

    Raises:
      TinyZooError: if ``zoo_dir`` is not a complete imported Small CNN Zoo, a method is
        unknown, or ``seeds < 1``.
    """
    from zoo_data.zoo import open_local_zoo

    if seeds < 1:
        raise TinyZooError(f"seeds {seeds}: need at least 1")
    zoo = open_local_zoo(zoo_dir, verify=False)
    if zoo.family.paper_table != "table2":
        raise TinyZooError(f"{zoo_dir}: a {zoo.config.preset} zoo; table2 runs on a Small "
                           "CNN Zoo (import one with 'tinyzoo import small-cnn-zoo')")
    from benchmarks.bench import run_benchmark
    from benchmarks.leaderboard import write_leaderboard
    from predictors.registry import BUILTINS, load_predictor

    methods = list(methods or BUILTINS)
    unknown = [m for m in methods if m not in BUILTINS]
    if unknown:
        raise TinyZooError(f"methods: unknown method {unknown[0]!r}; choose from "
                           f"{', '.join(BUILTINS)}")
    published = zoo.family.published_results(zoo.config.preset)
    nfn = dict(published.rows) if published is not None else {}
    rows = []
    for method in methods:
        predictor, _ = load_predictor(method)
        try:
            predictor.bind(zoo.config)
        except TinyZooError as e:
            rows.append({"method": method, "display_name": predictor.title(),
                         "not_applicable": str(e).split(": ", 1)[-1]})
            continue
        record, path = run_benchmark(method, zoo_dir, seeds, config or NFN_PROTOCOL,
                                     results_dir, progress=progress, log=None)
        tau = record["summary"]["test_kendall_tau"]
        counterpart = NFN_COUNTERPART.get(method)
        figure = nfn.get(counterpart, (None, None)) if counterpart else (None, None)
        rows.append({"method": method, "display_name": record["display_name"],
                     "mean": tau["mean"], "std": tau["std"], "n": tau["n"],
                     "undefined_reason": record_tau_reason(record),
                     "nfn_row": counterpart if figure[0] is not None else None,
                     "nfn_mean": figure[0], "nfn_std": figure[1],
                     "param_count": record["param_count"], "audit": record["audit"],
                     "result_file": str(path), "not_applicable": None})
    write_leaderboard(results_dir, leaderboard_dir)
    return rows


def format_table2(rows: list[dict], preset: str) -> str:
    """Rows as an aligned text table: method, our test tau (mean ± std, 4 decimals),
    seeds, NFN's figure for its counterpart, parameters; then NFN's rows without a
    counterpart and the methods that do not apply, each with its reason."""
    head = (f"Table 2, test Kendall's tau ({preset} zoo; NFN: Zhou et al. 2023, Table 2, "
            "its split of the last checkpoint)")
    body, notes = [], []
    for r in rows:
        if r.get("not_applicable"):
            notes.append(f"{r['display_name']}: not applicable ({r['not_applicable']})")
            continue
        nfn = (f"{fmt_tau_pm(r['nfn_mean'], r['nfn_std'])} ({r['nfn_row'].split(' (')[0]})"
               if r.get("nfn_mean") is not None else "—")
        body.append([r["display_name"], fmt_tau_pm(r["mean"], r["std"],
                                                   r.get("undefined_reason")),
                     r["n"], nfn,
                     f"{r['param_count']:,}" if r["param_count"] is not None else "—"])
    matched = {r.get("nfn_row") for r in rows}
    for name, (mean, std) in nfn_figures(preset).items():
        if name not in matched:
            body.append([name, "—", "—", fmt_tau_pm(mean, std), "—"])
    table = text_table(["method", "ours", "seeds", "NFN", "params"], body, right=(2, 4))
    return "\n".join([head, table, *notes])
