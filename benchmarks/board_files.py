"""The figure files the board owns, and removing those that no record draws any more.

``tinyzoo leaderboard`` writes three folders of figures beside ``LEADERBOARD.md``:
``plots/`` (one per record), ``forest/`` and ``curves/`` (one per table). When a record
is removed or re-keyed (a zoo rebuilt, migrated), its figures would stay behind,
linked from nothing. :func:`remove_stale_figures` deletes every ``*.png`` of those
folders that the current render did not write, except the data-scaling figures
(``curves/<zoo>-data-scaling.png``), which ``scripts/data_scaling.py`` makes and the
board only links.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from benchmarks.board import PLOTS
from benchmarks.curves import CURVES, SCALING_SUFFIX
from benchmarks.forest import FOREST

__all__ = ["BOARD_FIGURE_FOLDERS", "remove_stale_figures"]

#: The folders (beside ``LEADERBOARD.md``) whose figures the board writes.
BOARD_FIGURE_FOLDERS = (PLOTS, FOREST, CURVES)


def remove_stale_figures(out_dir: Path, written: Iterable[Path]) -> list[Path]:
    """Delete the board's figures in ``out_dir`` that are not in ``written``; return them
    (sorted). Data-scaling figures are never deleted."""
    keep = {Path(p).resolve() for p in written}
    stale = []
    for folder in BOARD_FIGURE_FOLDERS:
        for path in sorted((out_dir / folder).glob("*.png")):
            if path.resolve() not in keep and not path.name.endswith(SCALING_SUFFIX):
                path.unlink()
                stale.append(path)
    return stale
