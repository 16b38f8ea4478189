"""The Small CNN Zoo as a :class:`~zoo_data.families.base.ZooFamily`:
:data:`SMALL_CNN_ZOO`, registered as ``"small-cnn-zoo"``. Every answer is delegated to
the module of this folder that owns it; jax is imported only by the method that runs a
network (:mod:`zoo_data.cnn.features`), never when a zoo is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from zoo_data.cnn.config import FAMILY, METADATA_COLUMNS, PRESET_NAMES, CNNZooConfig
from zoo_data.cnn.layout import cnn_spec, cnn_tensor_shapes
from zoo_data.families.base import (
    CardParts,
    HyperparameterEncoding,
    ProbeNetwork,
    PublishedTable,
    ZooFamily,
)

if TYPE_CHECKING:
    from zoo_data.archive.layout import ZooLayout
    from zoo_data.zoo import Zoo

__all__ = ["SmallCNNZoo", "SMALL_CNN_ZOO", "NFN_TABLE2", "NFN_LABEL", "nfn_table2"]

#: NFN's Table 2 (Zhou et al. 2023, "Permutation Equivariant Neural Functionals": Small
#: CNN Zoo, test Kendall's tau, NFN's split): preset -> method -> (mean, std).
NFN_TABLE2: dict[str, dict[str, tuple[float, float]]] = {
    "small-cnn-cifar10": {"NFN-HNP": (0.934, 0.001), "NFN-NP": (0.922, 0.001),
                          "STATNN": (0.915, 0.002)},
    "small-cnn-svhn_cropped": {"NFN-HNP": (0.931, 0.005), "NFN-NP": (0.856, 0.001),
                               "STATNN": (0.843, 0.000)},
}
#: What the display name of an NFN figure on the board adds to the method's name.
NFN_LABEL = "NFN paper, Table 2"


def nfn_table2(preset: str) -> PublishedTable | None:
    """NFN's Table 2 figures for a zoo of ``preset``, or ``None`` if NFN reports none."""
    if preset not in NFN_TABLE2:
        return None
    dataset = preset.removeprefix("small-cnn-")
    return PublishedTable(
        label=NFN_LABEL,
        source=("Table 2 of Zhou et al. (2023), \"Permutation Equivariant Neural "
                "Functionals\" (NFN): the test figures NFN published for the Small CNN "
                f"Zoo's {dataset} networks with NFN's split, copied from the paper, not "
                "measured by this code"),
        rows=MappingProxyType(NFN_TABLE2[preset]),
        row_prefix="nfn-paper-",
    )


class SmallCNNZoo(ZooFamily):
    """The CNNs of Unterthiner et al. (2020), imported from their published files at one
    checkpoint, labelled by their test accuracy (:mod:`zoo_data.cnn.config`)."""

    name = FAMILY
    title = "Small CNN Zoo"
    label_name = "test accuracy"
    paper_table = "table2"
    config_class = CNNZooConfig

    def config_from_dict(self, d: dict) -> CNNZooConfig:
        """:meth:`CNNZooConfig.from_dict` (a manifest's ``config``)."""
        return CNNZooConfig.from_dict(d)

    def spec(self, config: CNNZooConfig) -> dict:
        """Hidden channels permute, nothing else (:func:`zoo_data.cnn.layout.cnn_spec`);
        also the true symmetry."""
        return cnn_spec()

    def tensor_shapes(self, config: CNNZooConfig) -> dict[str, tuple[int, ...]]:
        """The eight tensors in TensorFlow's shapes (:data:`zoo_data.cnn.layout.TENSORS`)."""
        return cnn_tensor_shapes()

    def metadata_columns(self, config: CNNZooConfig) -> dict[str, str]:
        """:data:`zoo_data.cnn.config.METADATA_COLUMNS`."""
        return dict(METADATA_COLUMNS)

    def network_columns(self, config: CNNZooConfig) -> tuple[str, ...]:
        """``("activation",)``: the zoo's runs use different activations."""
        return ("activation",)

    def category_codes(self, config: CNNZooConfig, column: str) -> dict[str, int] | None:
        """:meth:`CNNZooConfig.category_codes` of a categorical hyperparameter."""
        return config.category_codes(column) if column in dict(config.categories) else None

    def split_sizes(self, config: CNNZooConfig) -> dict[str, int]:
        """The import's own counts (:meth:`CNNZooConfig.split_sizes`)."""
        return config.split_sizes()

    def split_method(self, config: CNNZooConfig) -> str:
        """NFN's split or ours, by run (:meth:`CNNZooConfig.split_method_text`)."""
        return config.split_method_text()

    def card(self, config: CNNZooConfig, layout: ZooLayout) -> CardParts:
        """:func:`zoo_data.cnn.card.card_parts`."""
        from zoo_data.cnn.card import card_parts

        return card_parts(config, layout)

    def summary(self, zoo: Zoo) -> dict:
        """:func:`zoo_data.cnn.info.cnn_summary`."""
        from zoo_data.cnn.info import cnn_summary

        return cnn_summary(zoo)

    def summary_lines(self, summary: dict) -> list[str]:
        """:func:`zoo_data.cnn.info.cnn_summary_lines`."""
        from zoo_data.cnn.info import cnn_summary_lines

        return cnn_summary_lines(summary)

    def predictor_sizes(self, config: CNNZooConfig) -> Mapping[str, Mapping[str, Any]]:
        """NFN-HNP's sizes for UNF (equivariant channels 16, 16, 5; a head of two hidden
        layers of 1,000), so the row compares with NFN's Table 2."""
        return {"unf": {"channels": (16, 16, 5), "hidden": (1000, 1000)}}

    def hyperparameters(self, config: CNNZooConfig) -> HyperparameterEncoding:
        """Numeric and one-hot features (:func:`zoo_data.cnn.features.hyperparameter_encoding`)."""
        from zoo_data.cnn.features import hyperparameter_encoding

        return hyperparameter_encoding(config)

    def probe_network(self, config: CNNZooConfig) -> ProbeNetwork:
        """Probe images through each network under its own activation
        (:func:`zoo_data.cnn.features.probe_network`)."""
        from zoo_data.cnn.features import probe_network

        return probe_network(config)

    def no_fresh_problems_reason(self) -> str:
        """The zoo publishes its networks, not the images they were trained on."""
        return "the Small CNN Zoo publishes no images"

    def preset_rank(self, preset: str) -> int | None:
        """By dataset, NFN's split before ours (:data:`zoo_data.cnn.config.PRESET_NAMES`)."""
        return PRESET_NAMES.index(preset) if preset in PRESET_NAMES else None

    def published_results(self, preset: str) -> PublishedTable | None:
        """NFN's Table 2 on the presets it reports on (:func:`nfn_table2`); an imported
        zoo is never an older zoo (no :meth:`current_fingerprint`)."""
        return nfn_table2(preset)


#: The registered instance (:data:`zoo_data.families.registry.BUILT_IN`).
SMALL_CNN_ZOO = SmallCNNZoo()
