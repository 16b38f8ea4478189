"""Symmetry audit: does a trained predictor give the same output for functionally
identical models?

Permuting the hidden units of a zoo model (the same permutation on every tensor's
hidden axis, encoder and decoder alike) gives weights that compute exactly the same
function, so a sound predictor gives them the same success rate. The audit predicts
the SR of ``num_models`` test models and of ``num_permutations`` randomly permuted
copies of each (an independent permutation per model and copy), and reports

    max_abs_diff = max over models and copies of |SR(permuted copy) - SR(original)|.

Floating-point round-off makes it about 1e-7 for invariant predictors (UNF, STATNN,
Deep Sets); a predictor that reads the weights in a fixed order shows differences of
the order of its prediction spread.
"""

from __future__ import annotations

import numpy as np

from benchmarks.protocol import TrainedPredictor, permute_models
from zoo_builder.zoo import Zoo

__all__ = ["INVARIANCE_TOLERANCE", "audit_predictor"]

#: an audit above this is flagged as "not invariant" on the leaderboard
INVARIANCE_TOLERANCE = 1e-4


def audit_predictor(trained: TrainedPredictor, zoo: Zoo, num_permutations: int = 3,
                    num_models: int = 100, seed: int = 0) -> dict:
    """The audit (module docstring) on the first ``num_models`` models of ``zoo``'s split
    (weights only; no label is read). Returns ``{"max_abs_diff", "num_permutations",
    "num_models"}``."""
    if num_permutations < 1:
        raise ValueError(f"num_permutations {num_permutations}: need at least 1")
    ids = zoo.model_ids[:num_models]
    params = zoo.params(ids, channel_axis=True)
    base = trained.predict(params)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(num_permutations):
        permuted = trained.predict(permute_models(params, rng))
        worst = max(worst, float(np.max(np.abs(permuted - base))))
    return {"max_abs_diff": worst, "num_permutations": num_permutations,
            "num_models": int(len(ids))}
