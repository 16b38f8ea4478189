"""Statistics of a zoo's labels (``test_sr``), the same for every family: what
``tinyzoo info`` reports of their spread (:func:`sr_statistics`), and the spread
criterion every preset must meet (:func:`sr_spread`): can a zoo's success rates rank
anything? A zoo passes when no single SR value holds more than 25% of the models, at
least 20% of the models have SR above 0.5 and at least 20% have SR below 0.1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SR_QUANTILES", "sr_statistics", "SpreadReport", "sr_spread"]

#: The quantiles :func:`sr_statistics` reports.
SR_QUANTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)


def sr_statistics(sr: np.ndarray) -> dict:
    """Quantiles, mean, the spread criterion's three fractions (largest share of one
    SR value, share above 0.5, share below 0.1) of success rates ``sr (N,)``."""
    sr = np.asarray(sr, np.float64)
    _, counts = np.unique(sr, return_counts=True)
    return {
        "count": int(sr.size),
        "mean": float(sr.mean()),
        "quantiles": {f"{q:g}": float(np.quantile(sr, q)) for q in SR_QUANTILES},
        "most_common_share": float(counts.max() / sr.size),
        "share_above_0.5": float(np.mean(sr > 0.5)),
        "share_below_0.1": float(np.mean(sr < 0.1)),
    }


MAX_MODE_FRACTION = 0.25
MIN_HIGH_FRACTION = 0.20  # SR > 0.5
MIN_LOW_FRACTION = 0.20  # SR < 0.1


@dataclass(frozen=True)
class SpreadReport:
    n: int
    mode_value: float
    mode_fraction: float
    high_fraction: float
    low_fraction: float
    quantiles: dict[str, float]

    @property
    def ok(self) -> bool:
        return (
            self.mode_fraction <= MAX_MODE_FRACTION
            and self.high_fraction >= MIN_HIGH_FRACTION
            and self.low_fraction >= MIN_LOW_FRACTION
        )

    def summary(self) -> str:
        q = ", ".join(f"{k}={v:.3f}" for k, v in self.quantiles.items())
        verdict = "meets" if self.ok else "FAILS"
        return (
            f"{verdict} the spread criterion on {self.n} models: most common SR "
            f"{self.mode_value:.3f} holds {self.mode_fraction:.1%}, SR>0.5: "
            f"{self.high_fraction:.1%}, SR<0.1: {self.low_fraction:.1%}; quantiles {q}"
        )


def sr_spread(srs) -> SpreadReport:
    """Spread statistics of success rates ``srs`` (1-D, values in [0, 1])."""
    srs = np.asarray(srs, dtype=np.float64)
    if srs.ndim != 1 or srs.size == 0:
        raise ValueError(f"sr_spread: expected a non-empty 1-D array, got shape {srs.shape}")
    values, counts = np.unique(srs, return_counts=True)
    k = int(np.argmax(counts))
    qs = {f"q{int(p * 100)}": float(np.quantile(srs, p)) for p in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)}
    return SpreadReport(
        n=int(srs.size),
        mode_value=float(values[k]),
        mode_fraction=float(counts[k] / srs.size),
        high_fraction=float(np.mean(srs > 0.5)),
        low_fraction=float(np.mean(srs < 0.1)),
        quantiles=qs,
    )
