"""A typed diff of two JSON objects, and a unified text diff of them for people.

:func:`diff` walks both values together and yields one :class:`FieldChange` per changed
leaf, addressed by a JSON pointer. Maps compare key by key. Lists compare element by
element, except lists of maps where every item on both sides has a distinct ``name``
(containers, ports, env, volumes): those pair items by name, so inserting a container
at the front reports one added container rather than a change to every later one. An
item's pointer uses its index in the new list, or in the old list when it was removed.
A value that is absent on one side is ``None`` in the change.

Both functions expect normalized input (see :mod:`gitward.plan.normalize`), in which
secret values are already masked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from gitward.model import FieldChange
from gitward.plan import pointer

_MISSING = object()  # absent, as opposed to a JSON null; internal to one diff() call


def diff(before: Any, after: Any) -> tuple[FieldChange, ...]:
    """Every changed leaf between ``before`` and ``after``, in document order."""
    return tuple(_walk((), before, after))


def _walk(path: tuple[str | int, ...], before: Any, after: Any) -> Iterator[FieldChange]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        yield from _walk_maps(path, before, after)
    elif isinstance(before, list) and isinstance(after, list):
        yield from _walk_lists(path, before, after)
    elif not _equal(before, after):
        yield FieldChange(
            pointer.join(path),
            None if before is _MISSING else before,
            None if after is _MISSING else after,
        )


def _equal(before: Any, after: Any) -> bool:
    """JSON equality: ``1 == 1.0`` as numbers, but ``true`` is not ``1``."""
    if before is _MISSING or after is _MISSING:
        return before is after
    if isinstance(before, bool) or isinstance(after, bool):
        return type(before) is type(after) and before == after
    return bool(before == after)


def _walk_maps(
    path: tuple[str | int, ...], before: Mapping[str, Any], after: Mapping[str, Any]
) -> Iterator[FieldChange]:
    for name in sorted(set(before) | set(after)):
        yield from _walk((*path, name), before.get(name, _MISSING), after.get(name, _MISSING))


def _walk_lists(
    path: tuple[str | int, ...], before: list[Any], after: list[Any]
) -> Iterator[FieldChange]:
    old_names, new_names = _names(before), _names(after)
    if old_names is None or new_names is None:
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else _MISSING
            new = after[index] if index < len(after) else _MISSING
            yield from _walk((*path, index), old, new)
        return
    for index, name in enumerate(new_names):
        old = before[old_names.index(name)] if name in old_names else _MISSING
        yield from _walk((*path, index), old, after[index])
    for index, name in enumerate(old_names):
        if name not in new_names:
            yield from _walk((*path, index), before[index], _MISSING)


def _names(items: Sequence[Any]) -> list[str] | None:
    """The ``name`` of every item, when all items are maps with distinct string names."""
    names = [item.get("name") if isinstance(item, Mapping) else None for item in items]
    if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return [str(n) for n in names]


def to_yaml(obj: Any) -> str:
    """YAML with sorted keys (libyaml's emitter), stable enough to diff line by line."""
    if obj is None:
        return ""
    return yaml.dump(obj, Dumper=yaml.CSafeDumper, sort_keys=True, default_flow_style=False)


def unified_diff(before: Any, after: Any, label: str, context: int = 3) -> str:
    """A unified diff of two (normalized, masked) objects as YAML; empty when equal.

    ``label`` names the object in the ``---``/``+++`` header lines. Plain text: the CLI
    colors it.
    """
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(keepends=True),
        to_yaml(after).splitlines(keepends=True),
        fromfile=f"{label} (live)",
        tofile=f"{label} (desired)",
        n=context,
    )
    return "".join(lines)
