"""The one table of zoo families: a config's ``family`` name -> its :class:`ZooFamily`.

Built-in families are listed in :data:`BUILT_IN` as ``"module:attribute"`` and imported
on first use, so the archive format (below them) can ask a config's family without
importing every family's code. Other families register under the entry point group
:data:`ENTRY_POINT_GROUP` of an installed distribution, for example in its
``pyproject.toml``::

    [project.entry-points."tiny_rnn_zoo.families"]
    my-zoo = "my_package.family:MY_ZOO"

Order (the board's section order): built-ins, then entry points by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from zoo_data.errors import TinyZooError
from zoo_data.families.base import ZooFamily, checked_family

__all__ = ["RNN_FAMILY", "CNN_FAMILY", "BUILT_IN", "ENTRY_POINT_GROUP", "families",
           "family_named", "family_of", "config_from_dict", "recorded_family",
           "family_field"]

#: The family of zoos this project builds; a manifest config without ``family`` is one.
RNN_FAMILY = "tiny-rnn-zoo"
#: The Small CNN Zoo, imported from its published files.
CNN_FAMILY = "small-cnn-zoo"
#: Built-in families: name -> ``"module:attribute"`` of its instance.
BUILT_IN = {
    RNN_FAMILY: "zoo_data.rnn.family:TINY_RNN_ZOO",
    CNN_FAMILY: "zoo_data.cnn.family:SMALL_CNN_ZOO",
}
#: The entry point group that registers a family from another distribution.
ENTRY_POINT_GROUP = "tiny_rnn_zoo.families"


def _load(target: str, where: str) -> ZooFamily:
    module, _, attribute = target.partition(":")
    return checked_family(getattr(importlib.import_module(module), attribute), where)


@cache
def families() -> dict[str, ZooFamily]:
    """Every registered family by name, in board order (module docstring). A plug-in
    that names a built-in family, or whose object's ``name`` differs from its entry
    point's, is a TypeError: two owners of one name would be ambiguous."""
    found = {name: _load(target, f"zoo_data.families.registry.BUILT_IN[{name!r}]")
             for name, target in BUILT_IN.items()}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        where = f"entry point {ep.name!r} ({ep.value}) of group {ENTRY_POINT_GROUP}"
        if ep.name in found:
            raise TypeError(f"{where}: family {ep.name!r} is already registered")
        family = checked_family(ep.load(), where)
        if family.name != ep.name:
            raise TypeError(f"{where}: the object's name is {family.name!r}")
        found[ep.name] = family
    return found


def family_named(name: str) -> ZooFamily:
    """The family registered as ``name``.

    Raises:
      TinyZooError: no family of that name (one line, listing the known ones)."""
    known = families()
    if name not in known:
        raise TinyZooError(f"zoo family {name!r} is not registered (known: "
                           f"{', '.join(known)}; see zoo_data.families.registry)")
    return known[name]


def family_of(config: Any) -> ZooFamily:
    """The family of ``config`` (its ``family`` attribute)."""
    return family_named(config.family)


def recorded_family(block: Mapping[str, Any]) -> Any:
    """The family name a written block carries (a manifest's ``config``, a result
    record's ``zoo``, a ``tinyzoo info`` summary): its ``family`` key, absent: the Tiny
    RNN Zoo's, as in everything written before families existed."""
    return block.get("family", RNN_FAMILY)


def family_field(name: str) -> dict[str, str]:
    """What a written block (:func:`recorded_family`) adds for family ``name``:
    ``{"family": name}``, nothing for the Tiny RNN Zoo, whose blocks stay as they were
    written before families existed."""
    return {} if name == RNN_FAMILY else {"family": name}


def config_from_dict(d: Any) -> Any:
    """The checked config of a manifest's ``config`` object, by its ``family`` key
    (absent: a Tiny RNN Zoo's, as every manifest written before families existed).

    Raises:
      TinyZooError: one line naming the field at fault."""
    name = recorded_family(d) if isinstance(d, dict) else RNN_FAMILY
    if not isinstance(name, str):
        raise TinyZooError(f"config.family {name!r}: need a family name")
    return family_named(name).config_from_dict(d)
