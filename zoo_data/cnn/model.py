"""The Small CNN Zoo's network as a function, in JAX, for those who run it (the symmetry
tests, function-reading predictors): ``cnn_logits(params, images, activation)``.

The published networks are Keras models (google-research ``dnn_predict_accuracy``,
``train_network.py``): three ``Conv2D(16, 3x3, strides 2)`` with Keras' default
``padding="valid"``, each followed by the run's activation (and dropout, inactive at
inference), global average pooling, ``Dense(10)``. For a ``32 x 32`` input the feature
maps are ``15 x 15``, ``7 x 7``, ``3 x 3``.

Shapes: ``params`` the zoo's tree (``params["conv2d"]["kernel"]`` ``(3, 3, 1, 16)``
HWIO, ``params["dense"]["kernel"]`` ``(16, 10)``), ``images`` ``(K, H, W, 1)`` float32,
result ``(K, 10)`` logits. ``activation`` is a name of :data:`ACTIVATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from zoo_data.errors import TinyZooError

__all__ = ["ACTIVATIONS", "activation_fn", "cnn_logits"]

#: The Keras activations by name (the published ``config.activation`` values).
ACTIVATIONS: dict[str, Callable[[jnp.ndarray], jnp.ndarray]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "softplus": jax.nn.softplus,
    "linear": lambda x: x,
}


def activation_fn(name: str) -> Callable[[jnp.ndarray], jnp.ndarray]:
    """The activation named ``name``.

    Raises:
      TinyZooError: naming it, if this module does not know it.
    """
    if name not in ACTIVATIONS:
        raise TinyZooError(f"activation {name!r}: the CNN model knows "
                           f"{', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]


def cnn_logits(params: dict, images: jnp.ndarray, activation: str | Callable) -> jnp.ndarray:
    """``(K, 10)`` logits of one network on ``images (K, H, W, 1)`` (module docstring)."""
    act = activation_fn(activation) if isinstance(activation, str) else activation
    x = images
    for layer in ("conv2d", "conv2d_1", "conv2d_2"):
        x = jax.lax.conv_general_dilated(
            x, params[layer]["kernel"], window_strides=(2, 2), padding="VALID",
            dimension_numbers=("NHWC", "HWIO", "NHWC"))
        x = act(x + params[layer]["bias"])
    pooled = jnp.mean(x, axis=(1, 2))  # (K, 16)
    return pooled @ params["dense"]["kernel"] + params["dense"]["bias"]
