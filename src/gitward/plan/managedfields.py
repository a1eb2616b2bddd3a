"""Fields owned by a field manager, read from ``metadata.managedFields`` (``FieldsV1``).

The API server records, per manager, a trie of the fields it set. Each key is one path
element: ``f:name`` a field of a map, ``k:{"name":"web"}`` the list item whose key fields
have these values, ``v:"x"`` the list item (of a set) with this value, ``i:3`` a list index,
and ``.`` the node itself (an owned map or list item, not only its children). A node
with no children is an owned leaf. :func:`owned_paths` flattens the trie into paths and
:func:`remove_paths` deletes them from an object, which is how an ignore rule drops "every
field the HPA controller owns" before comparing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitward.model import JsonObject

_SELF = "."  # the FieldsV1 marker for "the node itself"


@dataclass(frozen=True)
class Field:
    name: str


@dataclass(frozen=True)
class Key:
    fields: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs; values are JSON scalars


@dataclass(frozen=True)
class Value:
    value: Any


@dataclass(frozen=True)
class Index:
    index: int


PathElement = Field | Key | Value | Index
Path = tuple[PathElement, ...]


def parse_element(token: str) -> PathElement:
    """``"f:spec"`` → ``Field("spec")``, ``'k:{"name":"a"}'`` → ``Key((("name", "a"),))``."""
    prefix, _, rest = token.partition(":")
    if prefix == "f":
        return Field(rest)
    if prefix == "k":
        decoded = json.loads(rest)
        return Key(tuple(sorted((str(k), _freeze(v)) for k, v in decoded.items())))
    if prefix == "v":
        return Value(_freeze(json.loads(rest)))
    if prefix == "i":
        return Index(int(rest))
    raise ValueError(f"unknown managedFields path element {token!r}")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def owned_paths(fields_v1: Mapping[str, Any], prefix: Path = ()) -> Iterator[Path]:
    """Every owned path in one FieldsV1 trie: leaves, and nodes marked with ``.``."""
    for token, child in sorted(fields_v1.items()):
        if token == _SELF:
            if prefix:
                yield prefix
            continue
        path = (*prefix, parse_element(token))
        if isinstance(child, Mapping) and child:
            yield from owned_paths(child, path)
        else:
            yield path


def managed_by(live: Mapping[str, Any], managers: Sequence[str]) -> list[Path]:
    """The paths owned by any of ``managers`` in a live object's managedFields."""
    meta = live.get("metadata")
    entries = meta.get("managedFields") if isinstance(meta, Mapping) else None
    paths: list[Path] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or entry.get("manager") not in managers:
            continue
        fields = entry.get("fieldsV1")
        if isinstance(fields, Mapping):
            paths.extend(owned_paths(fields))
    return paths


def remove_paths(obj: JsonObject, paths: Sequence[Path]) -> None:
    """Delete each path from ``obj`` in place (the caller's private copy); missing is fine.

    Longer paths go first so that removing a list item never shifts a later index away.
    """
    for path in sorted(paths, key=len, reverse=True):
        _remove(obj, path)


def _remove(node: Any, path: Path) -> None:
    for element in path[:-1]:
        node = _find(node, element)
        if node is None:
            return
    last = path[-1]
    if isinstance(last, Field) and isinstance(node, dict):
        node.pop(last.name, None)
    elif isinstance(node, list):
        position = _position(node, last)
        if position is not None:
            del node[position]


def _find(node: Any, element: PathElement) -> Any:
    if isinstance(element, Field):
        return node.get(element.name) if isinstance(node, dict) else None
    if isinstance(node, list):
        position = _position(node, element)
        return None if position is None else node[position]
    return None


def _position(items: list[Any], element: PathElement) -> int | None:
    for position, item in enumerate(items):
        if _matches(item, position, element):
            return position
    return None


def _matches(item: Any, position: int, element: PathElement) -> bool:
    if isinstance(element, Index):
        return position == element.index
    if isinstance(element, Value):
        return bool(_freeze(item) == element.value)
    if isinstance(element, Key):
        return isinstance(item, dict) and all(
            _freeze(item.get(name)) == value for name, value in element.fields
        )
    return False
