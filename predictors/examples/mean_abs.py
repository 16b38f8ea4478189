"""A user predictor in one file: the mean absolute value of the encoder's three hidden
kernels, standardised, into a linear model. Run it with
``tinyzoo bench predictors/examples/mean_abs.py:MeanAbs --zoo data/zoos/mini``."""

import flax.linen as nn
import numpy as np

from predictors import Predictor


class MeanAbs(Predictor):
    name = "mean-abs"
    cache_features = True        # small features: computed once per split
    standardize_features = True  # with the train split's mean and std

    def features(self, params, spec):
        leaves = [params["GRUCell_0"][g]["kernel"] for g in ("hr", "hz", "hn")]
        return np.stack([np.abs(w).mean(axis=(1, 2, 3)) for w in leaves], axis=1)

    def module(self, spec):
        return nn.Dense(1)
