"""The last step of every render: a deterministic order and one object per identity.

The plan stage pairs rendered objects with live ones by :class:`ResourceKey`, so two
documents with one identity would make the result depend on which one wins. They are
refused here, naming both sources. Sorting by key, then source, makes the output
independent of file and filesystem order, which keeps diffs and the render cache stable.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from gitward.errors import DuplicateObjectError
from gitward.model import Resource, ResourceKey, SourceLocation


def _order(resource: Resource) -> tuple[ResourceKey, str, int, int]:
    source = resource.source or SourceLocation("")
    return resource.key, source.path, source.line or 0, source.document


def _describe(resource: Resource, origin: str | None) -> str:
    where = str(resource.source) if resource.source else "an unknown source"
    return f"{origin} ({where})" if origin else where


def finish(resources: Iterable[Resource], *, origin: str | None = None) -> list[Resource]:
    """``resources`` sorted by key then source; refuses two objects with one identity.

    ``origin`` names the program whose output this is ("helm template output"), or None
    when the objects come straight from files.
    """
    ordered = sorted(resources, key=_order)
    for previous, current in itertools.pairwise(ordered):
        if previous.key == current.key:
            first, second = _describe(previous, origin), _describe(current, origin)
            raise DuplicateObjectError(
                f"{current.key} is defined twice: in {first} and in {second}",
                location=str(previous.source) if previous.source else None,
                hint="keep one of them, or give them different names or namespaces",
            )
    return ordered
