"""The Small CNN Zoo's part of its dataset card (:class:`~zoo_data.families.base.CardParts`):
the original CC BY 4.0 license, pretty name and tags for the front matter (which the
archive writes, :func:`zoo_data.archive.card.dataset_card`), and the body: where the
data comes from, its citation, the split, the network and the columns."""

from __future__ import annotations

from zoo_data.archive.layout import HUB_SPLITS, ZooLayout
from zoo_data.archive.splits import split_ranges
from zoo_data.cnn.config import (
    CATEGORICAL_HYPERPARAMETERS,
    NUMERIC_HYPERPARAMETERS,
    CNNZooConfig,
)
from zoo_data.cnn.layout import TENSORS
from zoo_data.families.base import CardParts

__all__ = ["CITATION", "TAGS", "card_parts"]

#: The card's tags (front matter).
TAGS = ("weight-space-learning", "model-zoo", "neural-network-weights", "cnn")

#: The citation the Small CNN Zoo's authors ask for (google-research
#: dnn_predict_accuracy README).
CITATION = """@misc{unterthiner2020predicting,
    title={Predicting Neural Network Accuracy from Weights},
    author={Thomas Unterthiner and Daniel Keysers and Sylvain Gelly and Olivier Bousquet and Ilya Tolstikhin},
    year={2020},
    eprint={2002.11448},
    archivePrefix={arXiv},
    primaryClass={stat.ML}
}"""  # noqa: E501

_TITLES = {"cifar10": "CIFAR-10-GS", "svhn_cropped": "SVHN-GS", "mnist": "MNIST",
           "fashion_mnist": "Fashion-MNIST"}


def card_parts(config: CNNZooConfig, layout: ZooLayout) -> CardParts:
    """The card of ``config``'s zoo in ``layout`` (module docstring)."""
    c = config
    ranges = split_ranges(c)
    split_rows = "\n".join(f"| `{HUB_SPLITS[s]}` | {lo} .. {hi - 1} | {hi - lo:,} |"
                           for s, (lo, hi) in ranges.items())
    sources = "\n".join(f"| `{name}` | `{sha}` |" for name, sha in c.sources)
    columns = [
        ("model_id", "int64", "row id; each split is an id range (table above)"),
        ("group", "int32", "archive group (the `g` of its files' names)"),
        ("source_index", "int64", "the row in the published `weights.npy` and "
         "`metrics.csv.gz`"),
        ("modeldir", "string", "the training run (published `modeldir`)"),
        ("test_sr", "float32", f"**the label**: published `test_accuracy` at step "
         f"{c.checkpoint}, in [0, 1]"),
        ("test_loss", "float32", "published `test_loss`"),
        ("train_loss", "float32", "published `train_loss`"),
        ("train_accuracy", "float32", "published `train_accuracy`"),
        *((n, "float64", f"published `config.{n}`") for n in NUMERIC_HYPERPARAMETERS),
        *((n, "string", f"published `config.{n}`, one of "
           + ", ".join(f"`{v}`" for v in dict(c.categories)[n]))
          for n in CATEGORICAL_HYPERPARAMETERS),
        *((path, f"float32 {shape}", "weights slice, TensorFlow's shape")
          for path, shape in TENSORS.items()),
    ]
    table = "\n".join(f"| `{n}` | {t} | {m} |" for n, t, m in columns)
    repeated = (f" {c.repeated_rows} row(s) repeat a published row (NFN's split file "
                "starts with a stray `0`, which NFN reads as an index; kept as NFN keeps it)."
                if c.repeated_rows else "")
    title = _TITLES[c.dataset]
    body = f"""
# Small CNN Zoo: {title}, step {c.checkpoint} ({c.preset})

{c.num_models:,} CNNs of the Small CNN Zoo (Unterthiner et al., 2020), trained by its
authors on {title}, at the checkpoint `step == {c.checkpoint}` (an epoch), imported by
`tinyzoo import small-cnn-zoo` from the published files of google-research
`dnn_predict_accuracy` (`https://storage.googleapis.com/gresearch/smallcnnzoo-dataset/{c.dataset}.tar.xz`).
The import changes no value: every tensor is its slice of the published weights
(float32), every label the published test accuracy. `manifest.json` records the sha256
of each source file (config fingerprint `{c.fingerprint()}`):

| source file | sha256 |
|---|---|
{sources}

## Splits and files

{c.split_method_text()}.{repeated}

| split | model ids | networks |
|---|---|---|
{split_rows}

Each split's rows are stored in `data/{{split}}-{{g:05d}}-of-{len(layout.groups):05d}.parquet`
files (`train`, `validation`, `test`); `datasets.load_dataset("path/to/this/folder")`
gives the three splits.

## Network

`conv2d` 3x3 stride 2, 1 -> 16 channels; `conv2d_1` and `conv2d_2` 3x3 stride 2, 16 -> 16;
global average pooling; `dense` 16 -> 10. 4,970 weights, {len(TENSORS)} tensors, kernels
in TensorFlow's shapes (HWIO for convolutions, (in, out) for the dense layer).

## Columns

| name | type / shape | meaning |
|---|---|---|
{table}

## License and citation

The Small CNN Zoo is licensed CC BY 4.0 by its authors (google-research
`dnn_predict_accuracy`); this folder is a format conversion of it under the same
license. NFN's split file (AllanYangZhou/nfn) is MIT licensed. Cite:

```bibtex
{CITATION}
```
"""
    return CardParts(license="cc-by-4.0", pretty_name=f"Small CNN Zoo, {title} ({c.preset})",
                     tags=TAGS, body=body)
