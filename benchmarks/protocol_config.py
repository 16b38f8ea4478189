"""The settings of the evaluation protocol (defaults: the paper's script), checked once.

The training budget is the one of the paper's own predictor script
(google/learned_optimization, ``research/univ_nfn/gen_pred/train_pred.py``): its
training set is ``shuffle(1000).repeat(10).batch(10)`` and it loops over that for 10
epochs, evaluating after each. So an *epoch* here is ``passes_per_epoch`` = 10 passes
over the training models, ``epochs`` = 10 of them make the budget of 100 passes, and the
validation split is scored after every epoch. Training stops early once ``patience``
epochs in a row have not improved the best validation tau (``None``: never).

Small zoos may use a smaller budget (:func:`default_protocol`), stated in their records
and on their board.

Kept apart from :mod:`benchmarks.protocol` so that a bad setting is refused before jax
is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from zoo_data.errors import TinyZooError

__all__ = ["ProtocolConfig", "SHORT_BUDGET", "SHORT_BUDGET_PRESETS", "budget_text",
           "default_protocol"]


@dataclass(frozen=True)
class ProtocolConfig:
    """Protocol settings (defaults: the paper's script, module docstring).

    Attributes:
      epochs: evaluations of the validation split, one after every epoch (at least 1).
      passes_per_epoch: passes over the training models between two evaluations (at
        least 1); the budget is ``epochs * passes_per_epoch`` passes.
      patience: stop after this many epochs in a row without a better validation tau
        (at least 1), or ``None`` to train the whole budget.
      batch_size: training models per Adam step (at least 1).
      learning_rate: Adam's learning rate (positive).
      augment: train on copies permuted by the zoo's true symmetry.
      eval_batch_size: models per forward pass when predicting (at least 1).

    Raises:
      TinyZooError: naming the first setting out of range.
    """

    epochs: int = 10
    passes_per_epoch: int = 10
    patience: int | None = 3
    batch_size: int = 10
    learning_rate: float = 1e-3
    augment: bool = False
    eval_batch_size: int = 50

    def __post_init__(self) -> None:
        for name in ("epochs", "passes_per_epoch", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if value < 1:
                raise TinyZooError(f"{name} {value}: need at least 1")
        if self.patience is not None and self.patience < 1:
            raise TinyZooError(f"patience {self.patience}: need at least 1 (or none)")
        if not self.learning_rate > 0:
            raise TinyZooError(f"learning_rate {self.learning_rate}: need a positive "
                               "learning rate")

    @property
    def passes(self) -> int:
        """The budget: ``epochs * passes_per_epoch`` passes over the training models."""
        return self.epochs * self.passes_per_epoch

    def budget_text(self) -> str:
        """One line naming the budget (:func:`budget_text`)."""
        return budget_text(self.to_dict())

    def to_dict(self) -> dict:
        return {"epochs": self.epochs, "passes_per_epoch": self.passes_per_epoch,
                "patience": self.patience, "passes": self.passes,
                "batch_size": self.batch_size,
                "learning_rate": self.learning_rate, "loss": "binary cross-entropy on SR",
                "augment": self.augment,
                "selection": "best validation Kendall tau-b over evaluations; test once"}


def budget_text(protocol: dict | None) -> str:
    """One line naming the training budget of a record's ``protocol`` block, e.g.
    ``100 passes (10 evaluations, every 10 passes), patience 3``; a block written before
    budgets were recorded (no ``passes_per_epoch``: one pass per epoch, no early
    stopping) the same way; ``no protocol (a scored prediction file)`` for ``None``."""
    if protocol is None:
        return "no protocol (a scored prediction file)"
    epochs = protocol.get("epochs")
    per_epoch = protocol.get("passes_per_epoch", 1)
    patience = protocol.get("patience")
    stop = f"patience {patience}" if patience is not None else "no early stopping"
    every = f"every {per_epoch} passes" if per_epoch != 1 else "after every pass"
    return f"{epochs * per_epoch} passes ({epochs} evaluations, {every}), {stop}"


#: The budget of the zoos too small for the paper's: 10 passes, evaluated after each,
#: no early stopping (the protocol of the boards before the paper's budget was adopted).
SHORT_BUDGET = {"epochs": 10, "passes_per_epoch": 1, "patience": None}
#: Presets whose boards use :data:`SHORT_BUDGET`, to keep the README's main job short.
SHORT_BUDGET_PRESETS = ("mini", "tiny")


def default_protocol(preset: str | None = None, **settings) -> ProtocolConfig:
    """The protocol for a zoo of ``preset``: :data:`SHORT_BUDGET` for
    :data:`SHORT_BUDGET_PRESETS`, else the paper's budget (the defaults), then
    ``settings`` (``None`` values ignored; ``patience=0`` means no early stopping) on
    top."""
    base = ProtocolConfig(**SHORT_BUDGET) if preset in SHORT_BUDGET_PRESETS \
        else ProtocolConfig()
    chosen = {k: v for k, v in settings.items() if v is not None}
    if chosen.get("patience") == 0:
        chosen["patience"] = None  # the command line's "--patience 0": no early stopping
    return replace(base, **chosen)
