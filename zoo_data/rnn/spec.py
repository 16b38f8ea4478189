"""The public weight-space spec of the zoo's seq2seq GRU, for the UNF core.

The hidden axis of all 22 tensors is permuted by one permutation (label ``"hidden"``):
permuting the hidden units of the encoder and decoder together, consistently in every
gate, leaves the model's function unchanged (the encoder's final state is the
decoder's initial state, so both cells share one hidden permutation).

The vocabulary axes (one-hot inputs, readout outputs) are not truly permutable.
``vocab="vocab"`` follows the paper's code and labels them as one permutable axis
(2,058 basis terms per layer); ``vocab=None`` marks them fixed, which is exact for the
true symmetry group (1,945 terms, each mixing ``V`` times more channels).
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["HIDDEN", "VOCAB", "Label", "gru_cell_spec", "seq2seq_spec", "symmetry_spec"]

HIDDEN = "hidden"
VOCAB = "vocab"

#: An axis label: axes with equal labels are permuted together; ``None`` marks an axis
#: that does not permute (the convention of :mod:`predictors.unf.spec`).
Label = Hashable | None


def gru_cell_spec(vocab: Label, hidden: Label = HIDDEN) -> dict:
    """Spec of one flax ``GRUCell``: input kernels ``(V, H)``, hidden kernels ``(H, H)``."""
    spec: dict = {
        gate: {"kernel": (vocab, hidden), "bias": (hidden,)} for gate in ("ir", "iz", "in")
    }
    spec.update({gate: {"kernel": (hidden, hidden)} for gate in ("hr", "hz")})
    spec["hn"] = {"kernel": (hidden, hidden), "bias": (hidden,)}
    return spec


def seq2seq_spec(vocab: Label = VOCAB, hidden: Label = HIDDEN) -> dict:
    """Spec of the zoo model's parameters (the tree *inside* flax's ``"params"``)."""
    return {
        "GRUCell_0": gru_cell_spec(vocab, hidden),
        "DecoderGRUCell_0": {
            "GRUCell_0": gru_cell_spec(vocab, hidden),
            "Dense_0": {"kernel": (hidden, vocab), "bias": (vocab,)},
        },
    }


def symmetry_spec() -> dict:
    """The model's true symmetry: hidden units permuted, vocabulary axes fixed
    (``seq2seq_spec(vocab=None)``). Permuting a model by it leaves its function
    unchanged, which the symmetry audit and ``--augment`` rely on."""
    return seq2seq_spec(vocab=None)
