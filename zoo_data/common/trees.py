"""Parameter trees as nested dicts and as flat ``{"a/b/c": leaf}`` dicts (the archive's
column names are the ``/``-joined paths inside flax's ``"params"``)."""

from __future__ import annotations

__all__ = ["flatten", "nest"]


def flatten(tree: dict, prefix: str = "") -> dict:
    """``{"a": {"b": {"c": x}}}`` -> ``{"a/b/c": x}``."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}/"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def nest(flat: dict) -> dict:
    """``{"a/b/c": x}`` -> ``{"a": {"b": {"c": x}}}``."""
    tree: dict = {}
    for path, value in flat.items():
        *parents, leaf = path.split("/")
        node = tree
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return tree
