"""Zoo configurations: the four presets and the config every build is checked against.

Everything about a zoo follows from its :class:`ZooConfig`: the task (digits, test and
training problems), the model size, the training length, the hyperparameter
distributions, the training groups and the splits. Two builds with equal configs
produce the same zoo; a folder holding another config's zoo is refused.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from zoo_data.archive.layout import MAX_GROUPS, MAX_MODELS
from zoo_data.common import fields
from zoo_data.errors import TinyZooError
from zoo_data.rnn.task import (
    OPERAND_SCHEMES,
    Problems,
    digit_probabilities,
    make_problem_sets,
    problem_space_size,
)

__all__ = ["ZooConfig", "PRESETS", "SCHEDULES", "TRAINER_REVISION", "VARIATIONS", "get_preset",
           "problem_sets", "check_config", "MAX_MODELS", "MAX_GROUPS", "MAX_CHECKPOINTS"]

#: Learning-rate schedules a config may name (their factors: :mod:`zoo_builder.schedule`).
SCHEDULES = ("constant", "cosine")

#: The revision of the training program (the arithmetic that turns a config into
#: weights). Programs of different revisions give different bits for the same config, so
#: the revision is part of the config and of its fingerprint, and a zoo is never resumed
#: or completed by another revision. 1: flax's ``GRUCell`` forward pass (zoos built
#: before the fused forward pass; manifests without the field); 2: the fused hidden
#: kernel of :mod:`zoo_builder.fused`.
TRAINER_REVISION = 2

# Bounds of a config (:func:`check_config`): generous next to the presets (the paper's
# zoo has 10,000 models in 10 groups), small enough that no config read from a file can
# make planning a build or reading a zoo hang or exhaust memory.
MAX_HIDDEN = 4096
MAX_DIGITS = 9  # sums of two 9-digit operands fit in int64 with room to spare
MAX_STEPS = 10_000_000
MAX_TEST_PROBLEMS = 100_000
MAX_TRAIN_PROBLEMS = 1_000_000
MAX_BATCH_SIZE = 65_536
MAX_BATCH_SIZES = 16
MAX_LEARNING_RATE = 10.0
MAX_CHECKPOINTS = 16
MAX_RECIPE = 1000

#: Hyperparameters a config may vary per model besides the learning rate and the batch
#: size: field name -> (distribution of a value on the config's ``(low, high)``, the
#: smallest and largest allowed bound, the value every model gets when the field is
#: ``None``). ``"log-uniform"``: ``exp(uniform(log low, log high))``; ``"uniform"``:
#: ``uniform(low, high)``. What each one does to training: :mod:`zoo_data.rnn.hparams`.
VARIATIONS: dict[str, tuple[str, float, float, float]] = {
    "init_scale": ("log-uniform", 1e-3, 1e3, 1.0),
    "weight_decay": ("log-uniform", 1e-8, 10.0, 0.0),
    "data_fraction": ("uniform", 1e-4, 1.0, 1.0),
    "adam_b1": ("uniform", 0.0, 0.999, 0.9),
    "clip_norm": ("log-uniform", 1e-4, 1e4, float("inf")),
}

#: A preset name: a known preset or a slug (it becomes part of file names).
PRESET_NAME = r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}"


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
        (:mod:`zoo_data.rnn.task`).
      lr_schedule: one of :data:`SCHEDULES` (:mod:`zoo_builder.schedule`); the
        sampled learning rate is the peak rate.

      trainer_revision: the training program's revision (:data:`TRAINER_REVISION`);
        this builder trains only its own revision.
      recipe: the version of a preset's design (its fields' values), recorded so that
        zoos of an older design of a preset stay identifiable; 1 for every zoo built
        before the field existed.
      checkpoints: the steps (increasing, the last ``steps``) after which every model is
        archived: one row per model and checkpoint, each with its own labels and
        ``step``; ``None``: one row per model, after ``steps``. The learning-rate
        schedule always spans ``steps``; checkpoints only read the run.
      init_scale, weight_decay, data_fraction, adam_b1, clip_norm: ``(low, high)``
        ranges of hyperparameters sampled per model (:data:`VARIATIONS`,
        :mod:`zoo_data.rnn.hparams`), or ``None``: not varied (every model gets the
        default: scale 1, no decay, the whole pool, b1 0.9, no clipping).

    ``operands`` and ``lr_schedule`` are left out of :meth:`to_dict` at their defaults,
    ``trainer_revision`` and ``recipe`` at 1, the checkpoints and variations at ``None``,
    so the manifests of zoos built before these fields existed still match their
    fingerprints (and read as revision 1). Its ``family`` (a class attribute) is not
    written either: a manifest's config without one is a Tiny RNN Zoo's
    (:func:`zoo_data.families.registry.config_from_dict`).
    """

    #: The zoo family (:class:`zoo_data.rnn.family.TinyRNNZoo`); never in :meth:`to_dict`.
    family: ClassVar[str] = "tiny-rnn-zoo"

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
    recipe: int = 1
    checkpoints: tuple[int, ...] | None = None
    init_scale: tuple[float, float] | None = None
    weight_decay: tuple[float, float] | None = None
    data_fraction: tuple[float, float] | None = None
    adam_b1: tuple[float, float] | None = None
    clip_norm: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_config(self)

    @property
    def varied(self) -> tuple[str, ...]:
        """The :data:`VARIATIONS` this config samples per model, in table order."""
        return tuple(name for name in VARIATIONS if getattr(self, name) is not None)

    @property
    def checkpoint_steps(self) -> tuple[int, ...]:
        """The steps at which every model is archived (``(steps,)`` without checkpoints)."""
        return self.checkpoints or (self.steps,)

    @property
    def rows_per_model(self) -> int:
        """Archive rows per model: its number of checkpoints (1 without)."""
        return len(self.checkpoint_steps)

    @property
    def num_rows(self) -> int:
        """Rows in the zoo's archive: ``num_models * rows_per_model``."""
        return self.num_models * self.rows_per_model

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["batch_sizes"] = list(self.batch_sizes)
        if self.digit_weights is not None:
            d["digit_weights"] = list(self.digit_weights)
        for name in ("checkpoints", *VARIATIONS):
            if d[name] is not None:
                d[name] = list(d[name])
        for name, default in (("operands", "uniform-lengths"), ("lr_schedule", "constant"),
                              ("trainer_revision", 1), ("recipe", 1), ("checkpoints", None),
                              *((v, None) for v in VARIATIONS)):
            if d[name] == default:
                del d[name]  # the default: keeps the fingerprints of older configs
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ZooConfig:
        """The config of a JSON object (a manifest's ``config``), every field checked
        (:func:`check_config`).

        Raises:
          TinyZooError: one line naming the field: not an object, an unknown or a
            missing key, a ``family`` other than ``"tiny-rnn-zoo"``, a value of the
            wrong type or out of range (:func:`zoo_data.common.fields.config_object`).
        """
        known = dataclasses.fields(cls)
        d = fields.config_object(d, (f.name for f in known), (
            f.name for f in known if f.default is dataclasses.MISSING), cls.family, False)
        d["batch_sizes"] = fields.int_list("batch_sizes", d.get("batch_sizes", (64, 128, 256)),
                                           1, MAX_BATCH_SIZE, MAX_BATCH_SIZES, unique=True)
        d.setdefault("trainer_revision", 1)  # written before revisions were recorded
        if d.get("digit_weights") is not None:
            d["digit_weights"] = fields.number_list("digit_weights", d["digit_weights"], 0.0,
                                                    1e6, MAX_DIGITS)
        if d.get("checkpoints") is not None:
            d["checkpoints"] = fields.int_list("checkpoints", d["checkpoints"], 1, MAX_STEPS,
                                               MAX_CHECKPOINTS, unique=True)
        for name, (_, lo, hi, _) in VARIATIONS.items():
            if d.get(name) is not None:
                d[name] = fields.number_list(name, d[name], lo, hi, 2)
        return cls(**d)

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of :meth:`to_dict` (first 16 hex digits,
        :func:`zoo_data.common.fields.fingerprint`)."""
        return fields.fingerprint(self.to_dict())


def check_config(c: ZooConfig) -> None:
    """Check every field of ``c``: its type (ints are not bools; ``batch_sizes`` and
    ``digit_weights`` are tuples) and range (the ``MAX_*`` bounds of this module), and
    that the fields agree: ``lr_min <= lr_max``, ``block_size <= group_size``, at most
    :data:`MAX_GROUPS` groups, and enough distinct problems for the test set and the
    training pool.

    Raises:
      TinyZooError: one line naming the first field at fault and its value.
    """
    fields.text("preset", c.preset, PRESET_NAME, "a preset name: letters, digits, '-' or "
                "'_', at most 40")
    fields.integer("num_models", c.num_models, 1, MAX_MODELS)
    fields.integer("hidden", c.hidden, 1, MAX_HIDDEN)
    fields.integer("max_digits", c.max_digits, 1, MAX_DIGITS)
    fields.integer("steps", c.steps, 1, MAX_STEPS)
    fields.integer("n_test", c.n_test, 1, MAX_TEST_PROBLEMS)
    fields.integer("n_train_pool", c.n_train_pool, 1, MAX_TRAIN_PROBLEMS)
    fields.integer("group_size", c.group_size, 1, MAX_MODELS)
    fields.integer("seed", c.seed, 0, 2**32 - 1)
    lr_min = fields.number("lr_min", c.lr_min, 0.0, MAX_LEARNING_RATE, open_low=True)
    lr_max = fields.number("lr_max", c.lr_max, 0.0, MAX_LEARNING_RATE, open_low=True)
    if lr_min > lr_max:
        raise TinyZooError(f"lr_min {lr_min} > lr_max {lr_max}: need lr_min <= lr_max")
    if not isinstance(c.batch_sizes, tuple):
        raise TinyZooError(f"batch_sizes {fields.show(c.batch_sizes)}: need a tuple of "
                           "integers")
    fields.int_list("batch_sizes", c.batch_sizes, 1, MAX_BATCH_SIZE, MAX_BATCH_SIZES,
                    unique=True)
    fields.integer("n_train_eval", c.n_train_eval, 1, MAX_TRAIN_PROBLEMS)
    if c.block_size is not None:
        fields.integer("block_size", c.block_size, 1, MAX_MODELS)
        if c.block_size > c.group_size:
            raise TinyZooError(f"block_size {c.block_size}: need 1 <= block_size <= "
                               f"group_size ({c.group_size})")
    fields.one_of("operands", c.operands, OPERAND_SCHEMES)
    fields.one_of("lr_schedule", c.lr_schedule, SCHEDULES)
    fields.integer("trainer_revision", c.trainer_revision, 1, TRAINER_REVISION)
    fields.integer("recipe", c.recipe, 1, MAX_RECIPE)
    if c.checkpoints is not None:
        if not isinstance(c.checkpoints, tuple):
            raise TinyZooError(f"checkpoints {fields.show(c.checkpoints)}: need a tuple of "
                               "steps")
        steps = fields.int_list("checkpoints", c.checkpoints, 1, c.steps, MAX_CHECKPOINTS,
                                unique=True)
        if list(steps) != sorted(steps) or steps[-1] != c.steps:
            raise TinyZooError(f"checkpoints {list(steps)}: need increasing steps ending at "
                               f"steps ({c.steps})")
    for name, (_, lo, hi, _) in VARIATIONS.items():
        bounds = getattr(c, name)
        if bounds is None:
            continue
        if not isinstance(bounds, tuple) or len(bounds) != 2:
            raise TinyZooError(f"{name} {fields.show(bounds)}: need a (low, high) pair")
        low, high = fields.number_list(name, bounds, lo, hi, 2)
        if low > high:
            raise TinyZooError(f"{name} {list(bounds)}: need low <= high")
    groups = -(-c.num_models // c.group_size) + len(c.batch_sizes) - 1
    if groups > MAX_GROUPS:
        raise TinyZooError(f"group_size {c.group_size}: {c.num_models} models would make up "
                           f"to {groups} groups, more than {MAX_GROUPS}")
    if c.digit_weights is not None:
        if not isinstance(c.digit_weights, tuple):
            raise TinyZooError(f"digit_weights {fields.show(c.digit_weights)}: need a tuple "
                               "of numbers")
        fields.number_list("digit_weights", c.digit_weights, 0.0, 1e6, MAX_DIGITS)
        if c.operands != "uniform-lengths":
            raise TinyZooError(f"digit_weights applies only to operands='uniform-lengths', "
                               f"not {c.operands!r}")
        try:
            digit_probabilities(c.max_digits, c.digit_weights)
        except ValueError as e:
            raise TinyZooError(str(e)) from None
    space = problem_space_size(c.max_digits, c.digit_weights, c.operands)
    if c.n_test + c.n_train_pool > space:
        raise TinyZooError(f"n_test {c.n_test} + n_train_pool {c.n_train_pool}: max_digits "
                           f"{c.max_digits} allows only {space} distinct problems")


PRESETS: dict[str, ZooConfig] = {
    # operands as in flax's seq2seq example and a cosine decay: calibrated on a 48-model
    # CPU sample of this zoo (docs/ZOO.md); groups of 1,000 in 8 blocks of 125, so up to
    # 8 accelerators share a group
    "paper": ZooConfig("paper", 10_000, 128, 5, 8000, 1000, 200_000, 1000, block_size=125,
                       operands="small-addend", lr_schedule="cosine"),
    # the CPU benchmark zoo of recipe 2 (docs/ZOO.md, "small-v2"): the paper's operands and
    # cosine decay at two digits (5,050 distinct problems: 1,000 held out, 4,000 to train
    # on), three checkpoints per model and five more hyperparameters sampled per model, so
    # that what happened in training is not all in the hyperparameters
    "small-v2": ZooConfig("small-v2", 1_000, 32, 2, 5000, 1000, 4000, 100, block_size=25,
                          lr_max=2e-2, operands="small-addend", lr_schedule="cosine",
                          recipe=2, checkpoints=(2500, 3750, 5000), init_scale=(0.5, 2.0),
                          weight_decay=(1e-4, 1.0), data_fraction=(0.25, 1.0),
                          adam_b1=(0.5, 0.99), clip_norm=(0.1, 10.0)),
    # two-digit addition (all 10,000 problems: 1,000 held out, 9,000 to train on)
    # (blocks of 25 models train fastest on a 2-core CPU: docs/BENCHMARKS.md)
    "small": ZooConfig("small", 2_000, 32, 2, 4400, 1000, 9_000, 100, block_size=25),
    # one-digit addition (100 problems: 20 held out, 80 to train on), recipe 2 at the
    # README's size: two checkpoints and four of the variations in narrower ranges (with
    # 80 training problems a smaller share of the pool leaves too few models above 0.5:
    # docs/ZOO.md)
    "mini": ZooConfig("mini", 200, 32, 1, 1000, 20, 80, 50, block_size=25, recipe=2,
                      checkpoints=(750, 1000), init_scale=(0.8, 1.25),
                      weight_decay=(1e-4, 1e-2), adam_b1=(0.85, 0.95),
                      clip_norm=(1.0, 30.0)),
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
    (:func:`zoo_data.rnn.task.make_problem_sets`)."""
    return make_problem_sets(config.seed, config.max_digits, config.n_test, config.n_train_pool,
                             config.digit_weights, config.operands)


if __name__ == "__main__":
    # rewrite data/splits/<preset>.json from the presets: python -m zoo_data.rnn.presets
    from pathlib import Path

    from zoo_data.archive.split_schemes import preset_split_file

    folder = Path(__file__).resolve().parents[2] / "data" / "splits"
    for name, preset in PRESETS.items():
        (folder / f"{name}.json").write_text(json.dumps(preset_split_file(preset), indent=2)
                                             + "\n")
        print(f"wrote {folder / name}.json")
