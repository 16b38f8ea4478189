"""The Tiny RNN Zoo's shifted split: test models from learning rates no training model has.

Scheme ``"lr-shift"`` (:func:`lr_shift_split`): the fifth of the zoo's models with the
largest learning rates (``ceil(N / 5)`` of them) are held out; ordered by model id, they
alternate validation, test, validation, ...; the other four fifths are the training
models. A predictor that has learnt "this learning rate does well" must extrapolate
beyond every learning rate it was trained on; one that reads what training did to the
weights need not. The held-out band keeps a wide spread of success rates (on
``small-v2``: mean 0.68, sample std 0.27, 10th to 90th percentile 0.22 to 0.95, against
0.03 to 0.59 for the four lower fifths' means), because within it the other sampled
hyperparameters (weight decay, clipping, ...) decide which models learn.

The learning rates are the zoo's own (:func:`zoo_data.rnn.hparams.model_hparams`, a
function of the config and the model id), so the split is known before any model is
trained and is the same on every machine.
"""

from __future__ import annotations

import math

import numpy as np

from zoo_data.rnn.hparams import model_hparams
from zoo_data.rnn.presets import ZooConfig

__all__ = ["LR_SHIFT", "LR_SHIFT_RULE", "lr_shift_split"]

LR_SHIFT = "lr-shift"
LR_SHIFT_RULE = ("held out: the fifth of the models with the largest learning rates, "
                 "alternately validation and test by model id; train: the other four "
                 "fifths (no training model has a learning rate in the held-out band)")


def lr_shift_split(config: ZooConfig) -> dict[str, np.ndarray]:
    """``{"train", "val", "test"}`` model ids of the ``"lr-shift"`` scheme (module
    docstring)."""
    n = config.num_models
    lr = np.asarray([model_hparams(config, i).learning_rate for i in range(n)])
    order = np.argsort(lr, kind="stable")
    held_count = math.ceil(n / 5)
    held = np.sort(order[n - held_count:])
    return {"train": np.sort(order[: n - held_count]), "val": held[0::2],
            "test": held[1::2]}
