"""The Tiny RNN Zoo's data layer: what a zoo is and how it is read, verified,
downloaded, exported and described. It imports no training code.

The names a user needs are importable from here (``from zoo_data import load_zoo``);
each is imported on first use, so importing the package costs nothing::

    load_zoo, open_local_zoo, Zoo, ZooBatch   zoo_data.zoo
    ZooConfig, PRESETS, get_preset            zoo_data.rnn.presets
    TinyZooError                              zoo_data.errors
    __version__                               zoo_data.version
"""

from __future__ import annotations

from zoo_data.lazy import lazy_exports

_EXPORTS = {
    "load_zoo": "zoo_data.zoo",
    "open_local_zoo": "zoo_data.zoo",
    "Zoo": "zoo_data.zoo",
    "ZooBatch": "zoo_data.zoo",
    "ZooConfig": "zoo_data.rnn.presets",
    "PRESETS": "zoo_data.rnn.presets",
    "get_preset": "zoo_data.rnn.presets",
    "TinyZooError": "zoo_data.errors",
    "__version__": "zoo_data.version",
}

__all__ = list(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
