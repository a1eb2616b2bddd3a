"""Helm values from several layers, merged as Flux's ``valuesFrom`` merges them.

Layers come in order (each ConfigMap or Secret of ``valuesFrom``, then the inline
``values``); a later layer wins. Mappings merge key by key, at any depth; anything else
(lists, scalars) is replaced whole, as Helm merges values files. A layer with a
``target_path`` sets one value at that dotted path (``a.b.c``) instead, as a string.
Pure. The values may come from a Secret: nothing here logs or shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge(base: Mapping[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """``layer`` over ``base``: mappings merged recursively, the rest replaced."""
    result = dict(base)
    for key, value in layer.items():
        below = result.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            result[key] = merge(below, value)
        else:
            result[key] = value
    return result


def set_path(values: Mapping[str, Any], path: str, value: str) -> dict[str, Any]:
    """``values`` with ``value`` at the dotted ``path`` (``\\.`` is a literal dot)."""
    keys = [k.replace("\0", ".") for k in path.replace("\\.", "\0").split(".")]
    if not all(keys):
        raise ValueError(f"targetPath {path!r} has an empty segment")
    nested: Any = value
    for key in reversed(keys):
        nested = {key: nested}
    return merge(values, nested)
