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

import os

import numpy as np

from benchmarks.inputs import provider_class
from benchmarks.protocol import TrainedPredictor, run_protocol
from benchmarks.protocol_config import ProtocolConfig
from predictors.base import Predictor
from predictors.registry import load_predictor
from zoo_data.errors import TinyZooError
from zoo_data.zoo import Zoo, open_local_zoo

__all__ = ["INVARIANCE_TOLERANCE", "audit_predictor", "run_audit"]

#: an audit above this is flagged as "not invariant" on the leaderboard
INVARIANCE_TOLERANCE = 1e-4


def _check_counts(num_permutations: int, num_models: int) -> None:
    for name, value in (("num_permutations", num_permutations), ("num_models", num_models)):
        if value < 1:
            raise TinyZooError(f"{name} {value}: need at least 1")


def audit_predictor(trained: TrainedPredictor, zoo: Zoo, num_permutations: int = 3,
                    num_models: int = 100, seed: int = 0) -> dict | None:
    """The audit (module docstring) on the first ``num_models`` models of ``zoo``'s split
    (through the run's input provider; no label is read). Returns ``{"max_abs_diff",
    "num_permutations", "num_models"}``, or ``None`` for a predictor that reads no
    weights (permuting them cannot change its output)."""
    _check_counts(num_permutations, num_models)
    if not trained.inputs.holds_weights:
        return None
    ids = zoo.model_ids[:num_models]
    base = trained.predict_models(zoo, ids)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(num_permutations):
        permuted = trained.predict_models(zoo, ids, permute=rng)
        worst = max(worst, float(np.max(np.abs(permuted - base))))
    return {"max_abs_diff": worst, "num_permutations": num_permutations,
            "num_models": int(len(ids))}


def run_audit(method: str, zoo_dir: str | os.PathLike, seed: int = 0,
              num_permutations: int = 3, num_models: int = 100,
              config: ProtocolConfig | None = None,
              progress: bool = False) -> tuple[Predictor, dict]:
    """Train ``method`` (a built-in name or ``file.py:Class``) on the zoo in ``zoo_dir``
    for one ``seed`` under the protocol, then audit it (:func:`audit_predictor`).
    Returns ``(predictor, audit)``. The counts are checked before anything is trained."""
    _check_counts(num_permutations, num_models)
    predictor, _ = load_predictor(method)
    if not provider_class(predictor).holds_weights:
        raise TinyZooError(f"{predictor.name}: reads no weights (metadata only), so "
                           "permuting them cannot change its output; nothing to audit")
    zoo = open_local_zoo(zoo_dir)
    result = run_protocol(predictor, zoo, seed, config, progress=progress)
    return predictor, audit_predictor(result.trained, zoo.with_split("test"),
                                      num_permutations, num_models, seed)
