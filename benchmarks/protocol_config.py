"""The settings of the evaluation protocol (defaults: the paper's), checked once.

Kept apart from :mod:`benchmarks.protocol` so that a bad setting is refused before jax
is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo_data.errors import TinyZooError

__all__ = ["ProtocolConfig"]


@dataclass(frozen=True)
class ProtocolConfig:
    """Protocol settings (defaults: the paper's, section 4.1).

    Attributes:
      epochs: training epochs (at least 1).
      batch_size: training models per Adam step (at least 1).
      learning_rate: Adam's learning rate (positive).
      augment: train on copies permuted by the zoo's true symmetry.
      eval_batch_size: models per forward pass when predicting (at least 1).

    Raises:
      TinyZooError: naming the first setting out of range.
    """

    epochs: int = 10
    batch_size: int = 10
    learning_rate: float = 1e-3
    augment: bool = False
    eval_batch_size: int = 50

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if value < 1:
                raise TinyZooError(f"{name} {value}: need at least 1")
        if not self.learning_rate > 0:
            raise TinyZooError(f"learning_rate {self.learning_rate}: need a positive "
                               "learning rate")

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "loss": "binary cross-entropy on SR",
                "augment": self.augment,
                "selection": "best validation Kendall tau-b over epochs; test once"}
