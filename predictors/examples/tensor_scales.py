"""A user predictor in one file: how large each weight tensor is (the log of its mean
and of its largest absolute entry: 22 tensors x 2 = 44 numbers per model), standardised,
into a linear model that starts at zero. Run it with
``tinyzoo bench predictors/examples/tensor_scales.py:TensorScales --zoo data/zoos/mini``."""

import flax.linen as nn
import jax
import numpy as np

from predictors import Predictor


class TensorScales(Predictor):
    name = "tensor-scales"
    cache_features = True        # small features: computed once per split
    standardize_features = True  # with the train split's mean and std

    def features(self, params, spec):
        # params: flax's "params" tree of the batch, leaves (B, *tensor_shape, 1) float32
        columns = []
        for w in jax.tree_util.tree_leaves(params):  # the 22 tensors, in sorted path order
            a = np.abs(w).reshape(len(w), -1)
            columns += [np.log(a.mean(axis=1) + 1e-12), np.log(a.max(axis=1) + 1e-12)]
        return np.stack(columns, axis=1)  # (B, 44); permuting hidden units changes nothing

    def module(self, spec):
        # zero weights at the start: every seed starts from the same model (only the batch
        # order differs), so the result does not hang on a lucky initialisation
        return nn.Dense(1, kernel_init=nn.initializers.zeros)
