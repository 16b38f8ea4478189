"""The Tiny RNN Zoo as a :class:`~zoo_data.families.base.ZooFamily`:
:data:`TINY_RNN_ZOO`, registered as ``"tiny-rnn-zoo"``. Every answer is delegated to the
module of this folder that owns it; jax is imported only by the methods that run a
network (:mod:`zoo_data.rnn.probes`), never when a zoo is loaded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from zoo_data.families.base import (
    CardParts,
    HyperparameterEncoding,
    ProbeNetwork,
    PublishedTable,
    ZooFamily,
)
from zoo_data.rnn import hparams, schema
from zoo_data.rnn.presets import PRESETS, ZooConfig
from zoo_data.rnn.spec import seq2seq_spec, symmetry_spec

if TYPE_CHECKING:
    from zoo_data.archive.layout import TrainingGroup, ZooLayout
    from zoo_data.zoo import Zoo

__all__ = ["TinyRNNZoo", "TINY_RNN_ZOO", "PAPER_PRESET", "PAPER_TABLE1"]

#: The preset of the paper's zoo, whose tables carry the paper's Table 1.
PAPER_PRESET = "paper"
#: Table 1 of the paper (Zhou et al. 2024; its own, unreleased Tiny RNN Zoo, test
#: Kendall's tau): method -> (mean, std over seeds, or ``None``: Deep Sets' single figure
#: of the camera-ready table).
PAPER_TABLE1 = PublishedTable(
    label=None,
    source=("Table 1 of Zhou et al. (2024), measured on the paper's own (unreleased) "
            "Tiny RNN Zoo, not on this zoo"),
    rows=MappingProxyType({"STATNN": (0.8839, 0.0007), "UNF": (0.8968, 0.0006),
                           "Deep Sets": (0.8306, None)}),
    row_prefix="paper-",
)


class TinyRNNZoo(ZooFamily):
    """Seq2seq GRUs trained by this project on character-level addition, labelled by
    their test success rate (:mod:`zoo_data.rnn.presets` for the configs)."""

    name = "tiny-rnn-zoo"
    title = "Tiny RNN Zoo"
    label_name = "test success rate"
    paper_table = "table1"
    config_class = ZooConfig

    def config_from_dict(self, d: dict) -> ZooConfig:
        """:meth:`ZooConfig.from_dict` (a manifest's ``config``)."""
        return ZooConfig.from_dict(d)

    def spec(self, config: ZooConfig) -> dict:
        """The paper's seq2seq spec: the hidden axis of all 22 tensors one permutation,
        the vocabulary axes labelled permutable too, as the paper's code does
        (:func:`zoo_data.rnn.spec.seq2seq_spec`)."""
        return seq2seq_spec()

    def symmetry(self, config: ZooConfig) -> dict:
        """The hidden units only (:func:`zoo_data.rnn.spec.symmetry_spec`)."""
        return symmetry_spec()

    def tensor_shapes(self, config: ZooConfig) -> dict[str, tuple[int, ...]]:
        """The 22 tensors' shapes (:func:`zoo_data.rnn.schema.tensor_shapes`)."""
        return schema.tensor_shapes(config)

    def metadata_columns(self, config: ZooConfig) -> dict[str, str]:
        """Hyperparameters, labels, losses; ``run_id``/``step`` with checkpoints; one
        column per varied hyperparameter (:func:`zoo_data.rnn.schema.metadata_columns`)."""
        return schema.metadata_columns(config)

    def export_metadata(self, config: ZooConfig, row: Mapping[str, Any], model_id: int,
                        split: str) -> dict[str, str]:
        """Labels, losses and hyperparameters as text
        (:func:`zoo_data.rnn.schema.export_metadata`)."""
        return schema.export_metadata(config, row, model_id, split)

    def training_groups(self, config: ZooConfig) -> tuple[TrainingGroup, ...]:
        """The models of each batch size (:func:`zoo_data.rnn.hparams.model_hparams`), in
        id order, chunked by ``group_size``: models trained together share a batch size."""
        from zoo_data.archive.layout import TrainingGroup

        by_batch: dict[int, list[int]] = {bs: [] for bs in config.batch_sizes}
        for i in range(config.num_models):
            by_batch[hparams.model_hparams(config, i).batch_size].append(i)
        groups: list[TrainingGroup] = []
        for bs in config.batch_sizes:
            ids = by_batch[bs]
            for start in range(0, len(ids), config.group_size):
                groups.append(TrainingGroup(len(groups), bs,
                                            tuple(ids[start : start + config.group_size])))
        return tuple(groups)

    def card(self, config: ZooConfig, layout: ZooLayout) -> CardParts:
        """:func:`zoo_data.rnn.card.card_parts`."""
        from zoo_data.rnn.card import card_parts

        return card_parts(config, layout)

    def summary(self, zoo: Zoo) -> dict:
        """:func:`zoo_data.rnn.info.rnn_summary`."""
        from zoo_data.rnn.info import rnn_summary

        return rnn_summary(zoo)

    def summary_lines(self, summary: dict) -> list[str]:
        """:func:`zoo_data.rnn.info.rnn_summary_lines`."""
        from zoo_data.rnn.info import rnn_summary_lines

        return rnn_summary_lines(summary)

    def hyperparameters(self, config: ZooConfig) -> HyperparameterEncoding:
        """Every sampled hyperparameter (and ``step`` with checkpoints) as polynomial
        features (:func:`zoo_data.rnn.hparams.hyperparameter_encoding`)."""
        return hparams.hyperparameter_encoding(config)

    def probe_network(self, config: ZooConfig) -> ProbeNetwork:
        """Soft probe questions in, a differentiable greedy decoding out
        (:func:`zoo_data.rnn.probes.probe_network`)."""
        from zoo_data.rnn.probes import probe_network

        return probe_network(config)

    def fresh_problem_accuracy(self, config: ZooConfig, num_problems: int,
                               seed: int) -> Callable[[Any], Any]:
        """Greedy accuracy on problems of the training pool
        (:func:`zoo_data.rnn.probes.fresh_problem_accuracy`)."""
        from zoo_data.rnn.probes import fresh_problem_accuracy

        return fresh_problem_accuracy(config, num_problems, seed)

    def fresh_problem_responses(self, config: ZooConfig, num_problems: int,
                                seed: int) -> Callable[[Any], Any]:
        """Teacher-forced log-probabilities of the answers and greedy correctness on
        problems of the training pool (:func:`zoo_data.rnn.probes.fresh_problem_responses`)."""
        from zoo_data.rnn.probes import fresh_problem_responses

        return fresh_problem_responses(config, num_problems, seed)

    def split_schemes(self, config: ZooConfig) -> dict[str, Any]:
        """``"lr-shift"``: validation and test models from the fifth of largest learning
        rates (:mod:`zoo_data.rnn.shift`)."""
        from zoo_data.archive.split_schemes import SplitScheme
        from zoo_data.rnn.shift import LR_SHIFT, LR_SHIFT_RULE, lr_shift_split

        return {LR_SHIFT: SplitScheme(LR_SHIFT_RULE, lr_shift_split)}

    def preset_rank(self, preset: str) -> int | None:
        """The order of :data:`zoo_data.rnn.presets.PRESETS`."""
        return list(PRESETS).index(preset) if preset in PRESETS else None

    def current_fingerprint(self, preset: str) -> str | None:
        """The fingerprint of the preset's config in :data:`zoo_data.rnn.presets.PRESETS`."""
        config = PRESETS.get(preset)
        return None if config is None else config.fingerprint()

    def published_results(self, preset: str) -> PublishedTable | None:
        """The paper's Table 1 (:data:`PAPER_TABLE1`) on the ``paper`` preset."""
        return PAPER_TABLE1 if preset == PAPER_PRESET else None


#: The registered instance (:data:`zoo_data.families.registry.BUILT_IN`).
TINY_RNN_ZOO = TinyRNNZoo()
