"""What the reference and probing predictors read of a Small CNN Zoo: its
hyperparameters as features (:func:`hyperparameter_encoding`) and its networks run on
learned probe images (:func:`probe_network`). jax is imported when a network is built,
never with the module."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from zoo_data.cnn.config import (
    CATEGORICAL_HYPERPARAMETERS,
    NUMERIC_HYPERPARAMETERS,
    CNNZooConfig,
)
from zoo_data.families.base import HyperparameterEncoding, ProbeNetwork

__all__ = ["LOG_UNIFORM", "hyperparameter_features", "hyperparameter_encoding",
           "image_size", "probe_network"]

#: The numeric hyperparameters besides the learning rate that the zoo draws
#: log-uniformly (features take their log).
LOG_UNIFORM = ("l2reg", "init_std")


def hyperparameter_features(categories: Mapping[str, int],
                            columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Features ``(B, F)`` float32 of a Small CNN Zoo's hyperparameter ``columns`` (each
    ``(B,)``; a categorical one as its integer codes, ``categories[name]`` of them): with
    ``l = log lr``, ``[l, l², l³]``, then ``[v, v², v l]`` for each other numeric one
    (``log`` of :data:`LOG_UNIFORM`), then each categorical one one-hot, and its
    one-hot times ``l``."""
    lr = np.log(columns["learning_rate"])
    terms = [lr, lr**2, lr**3]
    for name in NUMERIC_HYPERPARAMETERS[1:]:
        v = columns[name]
        v = np.log(np.maximum(v, 1e-12)) if name in LOG_UNIFORM else v
        terms += [v, v**2, v * lr]
    for name in CATEGORICAL_HYPERPARAMETERS:
        codes = columns[name].astype(np.int64)
        for code in range(categories[name]):
            hot = (codes == code).astype(np.float64)
            terms += [hot, hot * lr]
    return np.stack(terms, axis=1).astype(np.float32)


def hyperparameter_encoding(config: CNNZooConfig) -> HyperparameterEncoding:
    """Every published hyperparameter (:data:`~zoo_data.cnn.config.NUMERIC_HYPERPARAMETERS`,
    then :data:`~zoo_data.cnn.config.CATEGORICAL_HYPERPARAMETERS`), encoded by
    :func:`hyperparameter_features` with the config's number of values of each
    categorical one."""
    categories = {name: len(values) for name, values in config.categories}
    return HyperparameterEncoding((*NUMERIC_HYPERPARAMETERS, *CATEGORICAL_HYPERPARAMETERS),
                                  partial(hyperparameter_features, categories))


def image_size(config: CNNZooConfig) -> int:
    """The side of the zoo's square grayscale images: 28 (MNIST, Fashion-MNIST) or 32."""
    return 28 if config.dataset in ("mnist", "fashion_mnist") else 32


def probe_network(config: CNNZooConfig) -> ProbeNetwork:
    """A network on ``K`` probe images ``(K, S, S, 1)`` (``S`` = :func:`image_size`)
    under its own activation (column ``activation``, a 0-d code into the config's sorted
    activation names): its ``(K, 10)`` softmax outputs
    (:func:`zoo_data.cnn.model.cnn_logits`).

    Raises:
      TinyZooError: naming an activation of the zoo that the model does not know."""
    import jax
    import jax.numpy as jnp

    from zoo_data.cnn.model import activation_fn, cnn_logits

    activations = dict(config.categories)["activation"]
    for name in activations:
        activation_fn(name)  # refuse an activation the model does not know

    def respond(weights: Any, probes: Any, columns: Mapping[str, Any]) -> Any:
        code = jnp.asarray(columns["activation"]).astype(jnp.int32)  # ()
        outputs = jnp.stack([jax.nn.softmax(cnn_logits(weights, probes, name), axis=-1)
                             for name in activations])  # (A, K, 10)
        return jnp.take_along_axis(outputs, code[None, None, None], axis=0)[0]  # (K, 10)

    return ProbeNetwork(probe_shape=(image_size(config), image_size(config), 1),
                        respond=respond, network_columns=("activation",))
