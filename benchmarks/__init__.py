"""Benchmarks: the evaluation protocol, metrics, result records, the leaderboard,
submissions and the reproduction of the paper's tables. Performance and calibration
scripts live apart, in the repository's ``scripts/`` (not installed).

``from benchmarks import run_protocol, ProtocolConfig, run_benchmark, kendall_tau``
(imported on first use)."""

from __future__ import annotations

from zoo_data.lazy import lazy_exports

_EXPORTS = {
    "run_protocol": "benchmarks.protocol",
    "ProtocolConfig": "benchmarks.protocol_config",
    "run_benchmark": "benchmarks.bench",
    "kendall_tau": "benchmarks.metrics",
}

__all__ = list(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
