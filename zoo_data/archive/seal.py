"""Sealed test labels: once :func:`seal_test_labels` is called, this process can no
longer read a test model's labels through the package.

A code submission (``tinyzoo bench path/file.py:Class``) is trained and run in a child
process that calls :func:`seal_test_labels` before it imports the user's file
(:mod:`benchmarks.sealed`); the parent, which never runs user code, scores the test
predictions. In a sealed process:

- every :class:`~zoo_data.archive.reader.ShardReader` opened afterwards holds NaN for the
  label columns (:data:`~zoo_data.archive.schema.LABEL_COLUMNS`) of test models, so even its
  raw metadata table has no test label;
- :attr:`Zoo.labels <zoo_data.zoo.Zoo.labels>`, :attr:`Zoo.metadata`,
  :meth:`Zoo.batches` with labels and :attr:`Zoo.dataset`, on any split that holds a
  test model, raise :class:`~zoo_data.errors.TinyZooError` saying so.

The seal is a barrier against reading labels through this package's API, not a
sandbox: the process may still open the Parquet files on disk with another library
(the leaderboard's rules say so, as OGB's do). It cannot be undone in the process.
"""

from __future__ import annotations

__all__ = ["seal_test_labels", "test_labels_sealed", "sealed_scheme", "refuse_if_sealed"]

_sealed = False
_scheme = "id-ranges"


def seal_test_labels(scheme: str = "id-ranges") -> None:
    """Seal the test labels of every zoo for the rest of this process: those of the test
    models of split scheme ``scheme`` (:mod:`zoo_data.archive.split_schemes`; a zoo opened
    under another scheme is then refused, as its test models would be others)."""
    global _sealed, _scheme
    _sealed, _scheme = True, scheme


def sealed_scheme() -> str:
    """The split scheme whose test labels are sealed (meaningful once sealed)."""
    return _scheme


def test_labels_sealed() -> bool:
    """Whether :func:`seal_test_labels` was called in this process."""
    return _sealed


def refuse_if_sealed(what: str, holds_test_models: bool) -> None:
    """Raise, naming ``what``, if the labels are sealed and ``what`` would read a test
    model's label.

    Raises:
      TinyZooError: ``"<what>: the test labels are sealed in this process ..."``.
    """
    if _sealed and holds_test_models:
        from zoo_data.errors import TinyZooError

        raise TinyZooError(
            f"{what}: the test labels are sealed in this process (a code submission "
            "sees the train and val splits' labels and the test split's weights only; "
            "the harness scores the test predictions)"
        )
