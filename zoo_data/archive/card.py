"""The dataset card of a zoo: its ``README.md``, from the config, the archive format and
the zoo's family.

YAML front matter for the Hub and ``datasets`` (``configs``: in format 2 the ``default``
config with a ``train``, ``validation`` and ``test`` split, each pointing at its files
``data/{split}-*.parquet``; in format 1 one ``train`` split of every file; the family's
license, pretty name and tags, the task category and the size category), then the
family's Markdown body (:meth:`zoo_data.families.base.ZooFamily.card`): how to load it,
the splits and files, what the networks are and what each column means.
"""

from __future__ import annotations

from zoo_data.archive.layout import FORMAT_VERSION, HUB_SPLITS, ZooLayout
from zoo_data.families.base import CardParts, ZooConfigLike
from zoo_data.families.registry import family_of

__all__ = ["dataset_card", "front_matter", "size_category", "usage"]


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` value of ``n`` models (``"1K<n<10K"``)."""
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < bound:
            return name
    return "100K<n<1M"


def _data_files(format_version: int) -> str:
    """The ``configs`` entry of the front matter: one split per Hub split keyword in
    format 2, one ``train`` split of every file in format 1."""
    splits = ["train"] if format_version == 1 else list(HUB_SPLITS.values())
    return "".join(f"\n  - split: {s}\n    path: data/{s}-*.parquet" for s in splits)


def usage(format_version: int) -> str:
    """A Markdown code block: how ``datasets`` loads a zoo folder of archive format
    ``format_version`` (format 1: one ``train`` split; format 2: three splits)."""
    if format_version == 1:
        return """```python
import datasets
zoo = datasets.load_dataset("path/to/this/folder", split="train")  # or the Hub repo id
# or: datasets.load_dataset("parquet", data_dir="path/to/this/folder", split="train")
zoo = zoo.sort("model_id").with_format("numpy")  # tensor columns as arrays of their shapes
```"""
    return """```python
import datasets
zoo = datasets.load_dataset("path/to/this/folder")  # or the Hub repo id
# or: datasets.load_dataset("parquet", data_dir="path/to/this/folder")
# -> DatasetDict with the splits train, validation and test (see "Splits and files")
train = zoo["train"].sort("model_id").with_format("numpy")  # tensors as arrays
```"""


def front_matter(parts: CardParts, num_models: int, format_version: int) -> str:
    """The card's YAML front matter, ``---`` to ``---`` and a newline: the family's
    ``license``, ``pretty_name`` and ``tags``, task category ``tabular-regression``,
    :func:`size_category` of ``num_models`` and the split files of ``format_version``."""
    tags = "".join(f"\n- {tag}" for tag in parts.tags)
    return f"""---
license: {parts.license}
pretty_name: {parts.pretty_name}
task_categories:
- tabular-regression
tags:{tags}
size_categories:
- {size_category(num_models)}
configs:
- config_name: default
  data_files:{_data_files(format_version)}
---
"""


def dataset_card(config: ZooConfigLike, format_version: int = FORMAT_VERSION) -> str:
    """The zoo's ``README.md`` for archive format ``format_version``: the
    :func:`front_matter`, then the body of ``config``'s family
    (:meth:`~zoo_data.families.base.ZooFamily.card`)."""
    layout = ZooLayout.of(config, format_version)
    parts = family_of(config).card(config, layout)
    return front_matter(parts, config.num_models, format_version) + parts.body
