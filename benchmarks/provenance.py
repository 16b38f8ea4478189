"""Where the board's test labels come from: a record is ranked only if the labels it
was scored on are provably its zoo's.

Beside the records, ``<results_dir>/labels/`` holds per zoo (``<preset>-<sha8>``, every
split scheme of the zoo shares them) two files that :func:`publish_labels` copies
from the verified zoo whenever ``tinyzoo bench`` or ``tinyzoo submit`` writes a record:

- ``<preset>-<sha8>.manifest.json``: the zoo's manifest, byte for byte; its sha256 is
  the zoo's identity that the record names (``zoo.manifest_sha256``);
- ``<preset>-<sha8>.labels.csv``: the zoo's label file
  (:mod:`zoo_data.archive.label_file`), whose sha256 that manifest records.

:func:`check_record_labels` then needs neither the zoo nor trust in the record: the
manifest's sha256 must be the record's zoo, the label file's sha256 the manifest's
``labels_sha256``, the record's test rows exactly the test rows of its split scheme
(from the manifest's config, so that no hard model can be left out) and every stored
label (``predictions.actual_sr``) the label file's, to the float32 bit. A record that
passes has provenance; one whose labels differ is refused; one whose zoo has no such
files (a zoo built before label files, or downloaded: its manifest is its publisher's)
cannot be checked and is shown unranked, marked unverified.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from zoo_data.archive.label_file import (
    LABELS_KEY,
    check_label_file,
    label_file_of_shards,
    parse_label_file,
)
from zoo_data.archive.layout import MANIFEST
from zoo_data.archive.manifest import manifest_config, parse_manifest
from zoo_data.common.atomic import atomic_write
from zoo_data.errors import TinyZooError

__all__ = ["LABELS_DIR", "label_paths", "publish_labels", "publish_zoo_folder",
           "check_record_labels"]

#: The folder of label files, inside a results folder.
LABELS_DIR = "labels"


def label_paths(results_dir: str | os.PathLike, zoo: dict) -> tuple[Path, Path]:
    """``(manifest copy, label file)`` of the zoo of a record's ``zoo`` block."""
    stem = f"{zoo['preset']}-{zoo['manifest_sha256'][:8]}"
    folder = Path(results_dir) / LABELS_DIR
    return folder / f"{stem}.manifest.json", folder / f"{stem}.labels.csv"


def publish_labels(zoo, results_dir: str | os.PathLike) -> Path | None:
    """Copy the manifest and label file of ``zoo`` (a verified, open
    :class:`zoo_data.zoo.Zoo`) into ``results_dir/labels``; returns the label file, or
    ``None`` when the zoo cannot give provenance (its manifest records no label file,
    or is not the one its identity names: a download)."""
    raw = (Path(zoo.path) / MANIFEST).read_bytes()
    if hashlib.sha256(raw).hexdigest() != zoo.manifest_sha256:
        return None
    manifest = parse_manifest(raw, str(Path(zoo.path) / MANIFEST))
    if LABELS_KEY not in manifest:
        return None
    labels = label_file_of_shards(zoo.path, sorted(manifest["shards"]))
    check_label_file(labels, manifest, f"{zoo.path}: its label file")
    block = {"preset": zoo.config.preset, "manifest_sha256": zoo.manifest_sha256}
    manifest_copy, label_file = label_paths(results_dir, block)
    label_file.parent.mkdir(parents=True, exist_ok=True)
    for path, data in ((manifest_copy, raw), (label_file, labels)):
        if not (path.is_file() and path.read_bytes() == data):
            atomic_write(path, data)
    return label_file


def publish_zoo_folder(zoos_dir: str | os.PathLike,
                       results_dir: str | os.PathLike) -> list[Path]:
    """:func:`publish_labels` of every zoo folder in ``zoos_dir`` that a record of
    ``results_dir`` was made on (each verified as it opens); returns the label files.

    Raises:
      TinyZooError: naming ``zoos_dir`` if it is not a folder, or a zoo that fails its
        checks."""
    from benchmarks.results import read_results
    from zoo_data.zoo import open_local_zoo

    zoos_dir = Path(zoos_dir)
    if not zoos_dir.is_dir():
        raise TinyZooError(f"{zoos_dir}: not a folder of zoo folders")
    wanted = {r["zoo"]["manifest_sha256"] for r in read_results(results_dir)}
    published = []
    for folder in sorted(p for p in zoos_dir.iterdir() if (p / MANIFEST).is_file()):
        identity = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
        if identity in wanted:
            label_file = publish_labels(open_local_zoo(folder), results_dir)
            if label_file is not None:
                published.append(label_file)
    return published


def check_record_labels(record: dict, results_dir: str | os.PathLike,
                        where: str) -> str | None:
    """``None`` if the test labels of ``record`` (read from ``where``) are its zoo's
    (module docstring), else why they cannot be checked (the record is unverified).

    Raises:
      TinyZooError: one line naming ``where`` (or the label file) and the field: a
        label file or manifest copy that is not the zoo's, test rows other than the
        split scheme's, a stored label other than the zoo's.
    """
    predictions = record["predictions"]
    if not predictions["model_id"]:
        return None  # nothing is shown from it but its name
    zoo = record["zoo"]
    manifest_path, labels_path = label_paths(results_dir, zoo)
    if not manifest_path.is_file() or not labels_path.is_file():
        return (f"no label file of zoo {zoo['preset']}-{zoo['manifest_sha256'][:8]} in "
                f"{labels_path.parent}")
    raw = manifest_path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != zoo["manifest_sha256"]:
        raise TinyZooError(f"{manifest_path}: its sha256 is not the zoo's "
                           f"{zoo['manifest_sha256'][:12]}... that {where} names: not that "
                           "zoo's manifest")
    manifest = parse_manifest(raw, str(manifest_path))
    if LABELS_KEY not in manifest:
        return f"{manifest_path}: the zoo was built before label files"
    labels_raw = labels_path.read_bytes()
    check_label_file(labels_raw, manifest, str(labels_path))
    ids, labels = parse_label_file(labels_raw, str(labels_path))

    from zoo_data.archive.split_schemes import DEFAULT_SCHEME, scheme_rows

    config = manifest_config(manifest, str(manifest_path))
    scheme = zoo.get("split_scheme") or DEFAULT_SCHEME
    got = np.asarray(predictions["model_id"], np.int64)
    want = scheme_rows(config, "test", scheme)
    if got.shape != want.shape or not np.array_equal(np.sort(got), want):
        raise TinyZooError(f"{where}: predictions.model_id are not the {want.size} test "
                           f"rows of split scheme {scheme!r} of this zoo: refused")
    position = np.minimum(np.searchsorted(ids, got), max(ids.size - 1, 0))
    if ids.size == 0 or not np.array_equal(ids[position], got):
        raise TinyZooError(f"{labels_path}: lacks test rows of {where}: not the zoo's "
                           "label file")
    stored = np.asarray(predictions["actual_sr"], np.float64)
    truth = labels[position]
    wrong = np.flatnonzero(np.asarray(stored, np.float32) != truth)
    if wrong.size:
        k = int(wrong[0])
        raise TinyZooError(f"{where}: predictions.actual_sr[{k}] (model_id {int(got[k])}) "
                           f"is {float(stored[k])!r}, the zoo's label file says "
                           f"{float(truth[k])!r}: refused ({wrong.size} labels differ)")
    return None
