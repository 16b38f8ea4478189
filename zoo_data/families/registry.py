"""Zoo families: the Tiny RNN Zoo (built by this project) and the Small CNN Zoo
(imported from its published files). Everything that differs between them is asked of
this module, by config:

- :func:`config_from_dict`: a manifest's ``config`` as the family's config class
  (:class:`zoo_data.rnn.presets.ZooConfig` or :class:`zoo_data.cnn.config.CNNZooConfig`;
  a config without a ``family`` key is a Tiny RNN Zoo's, as every manifest written
  before families existed);
- :func:`family_spec` and :func:`family_symmetry`: the weight-space spec the UNF core
  reads and the true symmetry the audit and augmentation permute by;
- :func:`family_title`: the family's name on the board;
- :func:`network_columns`: metadata that defines a network besides its weights.

The rest of the data layer (layout, schema, splits, reader, manifest) reads the
attributes both config classes share: ``preset``, ``num_models``, ``rows_per_model``,
``num_rows``, ``checkpoints``, ``steps``, ``varied``, ``group_size``, ``fingerprint()``,
``to_dict()``.
"""

from __future__ import annotations

from typing import Any

from zoo_data.cnn.config import FAMILY as CNN_FAMILY
from zoo_data.cnn.config import CNNZooConfig
from zoo_data.cnn.layout import cnn_spec
from zoo_data.rnn.presets import ZooConfig
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec

__all__ = ["RNN_FAMILY", "CNN_FAMILY", "FAMILIES", "AnyZooConfig", "config_from_dict",
           "is_cnn", "family_of", "family_spec", "family_symmetry", "family_title",
           "network_columns"]

#: The family of zoos this project builds.
RNN_FAMILY = "tiny-rnn-zoo"
#: Family name -> its title on the board, in board order.
FAMILIES = {RNN_FAMILY: "Tiny RNN Zoo", CNN_FAMILY: "Small CNN Zoo"}

AnyZooConfig = ZooConfig | CNNZooConfig


def config_from_dict(d: Any) -> AnyZooConfig:
    """The checked config of a manifest's ``config`` object, by its ``family`` key
    (absent: a Tiny RNN Zoo).

    Raises:
      TinyZooError: one line naming the field at fault.
    """
    if isinstance(d, dict) and "family" in d:
        return CNNZooConfig.from_dict(d)
    return ZooConfig.from_dict(d)


def is_cnn(config: Any) -> bool:
    """Whether ``config`` is an imported Small CNN Zoo's."""
    return isinstance(config, CNNZooConfig)


def family_of(config: Any) -> str:
    """The family name of ``config``'s zoo (:data:`FAMILIES`)."""
    return CNN_FAMILY if is_cnn(config) else RNN_FAMILY


def network_columns(config: Any) -> tuple[str, ...]:
    """The metadata columns that define a network besides its weights, which a
    predictor that reads weights or runs the network may declare: a Small CNN Zoo
    network's ``activation`` (its runs use different ones); none for the GRU zoo."""
    return ("activation",) if is_cnn(config) else ()


def family_title(config: Any) -> str:
    """The board title of ``config``'s family."""
    return FAMILIES[family_of(config)]


def family_spec(config: Any) -> dict:
    """The weight-space spec the predictors read: the paper's seq2seq spec (vocabulary
    axes labelled permutable, as the paper's code does) or the CNN's (hidden channels
    only, :func:`zoo_data.cnn.layout.cnn_spec`)."""
    return cnn_spec() if is_cnn(config) else seq2seq_spec()


def family_symmetry(config: Any) -> dict:
    """The true symmetry of the family's networks: permuting by it leaves a network's
    function unchanged (the GRU's hidden units; the CNN's hidden channels)."""
    return cnn_spec() if is_cnn(config) else symmetry_spec()
