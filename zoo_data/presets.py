"""Zoo configurations: the four presets and the config every build is checked against.

Everything about a zoo follows from its :class:`ZooConfig`: the task (digits, test and
training problems), the model size, the training length, the hyperparameter
distributions, the training groups and the splits. Two builds with equal configs
produce the same zoo; a folder holding another config's zoo is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from zoo_data.errors import TinyZooError
from zoo_data.task import OPERAND_SCHEMES, Problems, digit_probabilities, make_problem_sets

__all__ = ["ZooConfig", "PRESETS", "SCHEDULES", "TRAINER_REVISION", "get_preset",
           "problem_sets"]

#: Learning-rate schedules a config may name (their factors: :mod:`zoo_builder.schedule`).
SCHEDULES = ("constant", "cosine")

#: The revision of the training program (the arithmetic that turns a config into
#: weights). Programs of different revisions give different bits for the same config, so
#: the revision is part of the config and of its fingerprint, and a zoo is never resumed
#: or completed by another revision. 1: flax's ``GRUCell`` forward pass (zoos built
#: before the fused forward pass; manifests without the field); 2: the fused hidden
#: kernel of :mod:`zoo_builder.fused`.
TRAINER_REVISION = 2


@dataclass(frozen=True)
class ZooConfig:
    """A zoo's complete configuration.

    Attributes:
      preset: name of the preset it came from.
      num_models: models in the zoo (ids ``0 .. num_models-1``).
      hidden: GRU hidden size ``H``.
      max_digits: operands have at most this many digits.
      steps: Adam steps per model.
      n_test: problems in the shared held-out test set.
      n_train_pool: distinct training problems the models draw batches from.
      group_size: models trained together in one group (one archive shard).
      seed: the zoo seed; model ``i`` derives all its randomness from ``(seed, i)``.
      lr_min, lr_max: learning rate is log-uniform on ``[lr_min, lr_max]``.
      batch_sizes: batch size is uniform on this set.
      n_train_eval: training-pool problems on which the final train loss is measured.
      block_size: models one device trains in one vectorised program; a group's blocks
        are spread over the local devices, so a group uses at most
        ``ceil(group_size / block_size)`` of them. ``None``: the whole group is one block.
      digit_weights: relative probabilities of an operand having 1, 2, ..., max_digits
        digits (test set and training pool alike); ``None``: uniform. Only for
        ``operands="uniform-lengths"``.
      operands: how problems are drawn, ``"uniform-lengths"`` or ``"small-addend"``
        (:mod:`zoo_data.task`).
      lr_schedule: one of :data:`SCHEDULES` (:mod:`zoo_builder.schedule`); the
        sampled learning rate is the peak rate.

      trainer_revision: the training program's revision (:data:`TRAINER_REVISION`);
        this builder trains only its own revision.

    ``operands`` and ``lr_schedule`` are left out of :meth:`to_dict` at their defaults,
    and ``trainer_revision`` at 1, so the manifests of zoos built before these fields
    existed still match their fingerprints (and read as revision 1).
    """

    preset: str
    num_models: int
    hidden: int
    max_digits: int
    steps: int
    n_test: int
    n_train_pool: int
    group_size: int
    seed: int = 0
    lr_min: float = 1e-4
    lr_max: float = 1e-2
    batch_sizes: tuple[int, ...] = (64, 128, 256)
    n_train_eval: int = 512
    block_size: int | None = None
    digit_weights: tuple[float, ...] | None = None
    operands: str = "uniform-lengths"
    lr_schedule: str = "constant"
    trainer_revision: int = TRAINER_REVISION

    def __post_init__(self) -> None:
        if self.block_size is not None and not 1 <= self.block_size <= self.group_size:
            raise ValueError(
                f"block_size {self.block_size}: need 1 <= block_size <= group_size "
                f"({self.group_size})"
            )
        if self.operands not in OPERAND_SCHEMES:
            raise ValueError(
                f"operands {self.operands!r}: choose one of {', '.join(OPERAND_SCHEMES)}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(
                f"lr_schedule {self.lr_schedule!r}: choose one of {', '.join(SCHEDULES)}")
        if self.digit_weights is not None:
            if self.operands != "uniform-lengths":
                raise ValueError(f"digit_weights applies only to operands='uniform-lengths', "
                                 f"not {self.operands!r}")
            digit_probabilities(self.max_digits, self.digit_weights)  # raises if malformed

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["batch_sizes"] = list(self.batch_sizes)
        if self.digit_weights is not None:
            d["digit_weights"] = list(self.digit_weights)
        for name, default in (("operands", "uniform-lengths"), ("lr_schedule", "constant"),
                              ("trainer_revision", 1)):
            if d[name] == default:
                del d[name]  # the default: keeps the fingerprints of older configs
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ZooConfig:
        d = dict(d)
        d["batch_sizes"] = tuple(d["batch_sizes"])
        d.setdefault("trainer_revision", 1)  # written before revisions were recorded
        if d.get("digit_weights") is not None:
            d["digit_weights"] = tuple(float(w) for w in d["digit_weights"])
        return cls(**d)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the config (first 16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


PRESETS: dict[str, ZooConfig] = {
    # operands as in flax's seq2seq example and a cosine decay: calibrated on a 48-model
    # CPU sample of this zoo (docs/ZOO.md); groups of 1,000 in 8 blocks of 125, so up to
    # 8 accelerators share a group
    "paper": ZooConfig("paper", 10_000, 128, 5, 8000, 1000, 200_000, 1000, block_size=125,
                       operands="small-addend", lr_schedule="cosine"),
    # two-digit addition (all 10,000 problems: 1,000 held out, 9,000 to train on)
    # (blocks of 25 models train fastest on a 2-core CPU: docs/BENCHMARKS.md)
    "small": ZooConfig("small", 2_000, 32, 2, 4400, 1000, 9_000, 100, block_size=25),
    # one-digit addition (100 problems: 20 held out, 80 to train on); calibrated in
    # docs/ZOO.md
    "mini": ZooConfig("mini", 300, 32, 1, 800, 20, 80, 50, block_size=25),
    "tiny": ZooConfig("tiny", 24, 32, 1, 600, 20, 80, 8, block_size=4),
}


def get_preset(name: str) -> ZooConfig:
    """The preset called ``name``; :class:`TinyZooError` naming the known ones otherwise."""
    if name not in PRESETS:
        raise TinyZooError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


@lru_cache(maxsize=4)
def problem_sets(config: ZooConfig) -> tuple[Problems, Problems]:
    """The zoo's (test set, training pool), from its config
    (:func:`zoo_data.task.make_problem_sets`)."""
    return make_problem_sets(config.seed, config.max_digits, config.n_test, config.n_train_pool,
                             config.digit_weights, config.operands)
