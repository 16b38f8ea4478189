"""The Small CNN Zoo's network and weight space (Unterthiner et al., 2020): the layer
layout of the published weight vectors and the spec the UNF core reads.

Every network of the zoo is the same CNN on 32x32 (28x28 for MNIST) grayscale images::

    conv2d    3x3, stride 2, 1 -> 16 channels, activation
    conv2d_1  3x3, stride 2, 16 -> 16 channels, activation
    conv2d_2  3x3, stride 2, 16 -> 16 channels, activation
    global average pooling over the spatial positions
    dense     16 -> 10 logits

4,970 parameters: 160 + 2,320 + 2,320 + 170. The published ``weights.npy`` holds one
flat vector of them per checkpoint; ``layout.csv`` names each tensor's slice
(columns ``varname``, ``start_idx``, ``end_idx``, ``shape``), kernels in TensorFlow's
order: convolutions ``(3, 3, c_in, c_out)`` (HWIO), the dense kernel ``(16, 10)``
(in, out). The archive keeps those shapes, under the paths of :data:`TENSORS`.

Symmetry: permuting the 16 channels of a hidden layer (its kernel's output axis and
bias, and the next layer's input axis) leaves the network's function unchanged; the
spatial axes of a kernel, the image's single input channel and the 10 classes do not
permute. :func:`cnn_spec` labels them ``None``, as NFN's "HNP" (hidden neuron
permutation) weight space does.
"""

from __future__ import annotations

from math import prod

__all__ = [
    "DATASETS",
    "NUM_WEIGHTS",
    "LAYERS",
    "TENSORS",
    "HIDDEN_LABELS",
    "cnn_spec",
    "cnn_tensor_shapes",
]

#: The four datasets of the zoo, by their TFDS names (the published archives'
#: ``<name>.tar.xz``); CIFAR-10 and SVHN are converted to grayscale.
DATASETS = ("cifar10", "svhn_cropped", "mnist", "fashion_mnist")

#: Parameters of one network: the length of a row of ``weights.npy``.
NUM_WEIGHTS = 4970

#: ``(layer, kernel shape)`` in the network's order; every layer has a bias of the
#: kernel's last size.
LAYERS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("conv2d", (3, 3, 1, 16)),
    ("conv2d_1", (3, 3, 16, 16)),
    ("conv2d_2", (3, 3, 16, 16)),
    ("dense", (16, 10)),
)

#: ``{archive path: shape}`` of the eight tensors, sorted by path.
TENSORS: dict[str, tuple[int, ...]] = dict(sorted(
    [(f"{layer}/kernel", shape) for layer, shape in LAYERS]
    + [(f"{layer}/bias", (shape[-1],)) for layer, shape in LAYERS]
))

#: The permutation label of each hidden layer's 16 channels.
HIDDEN_LABELS = ("c0", "c1", "c2")

assert sum(prod(shape) for shape in TENSORS.values()) == NUM_WEIGHTS


def cnn_spec() -> dict:
    """The weight-space spec of the zoo's CNN (module docstring): hidden channels
    ``c0, c1, c2`` permute, every other axis is ``None``::

        conv2d:   kernel (None, None, None, c0), bias (c0,)
        conv2d_1: kernel (None, None, c0, c1),   bias (c1,)
        conv2d_2: kernel (None, None, c1, c2),   bias (c2,)
        dense:    kernel (c2, None),             bias (None,)
    """
    c0, c1, c2 = HIDDEN_LABELS
    return {
        "conv2d": {"kernel": (None, None, None, c0), "bias": (c0,)},
        "conv2d_1": {"kernel": (None, None, c0, c1), "bias": (c1,)},
        "conv2d_2": {"kernel": (None, None, c1, c2), "bias": (c2,)},
        "dense": {"kernel": (c2, None), "bias": (None,)},
    }


def cnn_tensor_shapes() -> dict[str, tuple[int, ...]]:
    """``{archive path: shape}`` of one network (:data:`TENSORS`, a copy)."""
    return dict(TENSORS)
