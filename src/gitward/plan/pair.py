"""Pair desired objects with live ones by identity (group, kind, namespace, name).

The version is not part of the identity, so an object rendered as ``apps/v1`` pairs with
the live object whatever version the cache read it as.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gitward.model import JsonObject, Resource, ResourceKey


@dataclass(frozen=True)
class Pair:
    """One desired object and its live counterpart (None when it does not exist yet)."""

    desired: Resource
    live: JsonObject | None


def pair(desired: Sequence[Resource], live: Mapping[ResourceKey, JsonObject]) -> list[Pair]:
    """Each desired object with its live object, in the order given."""
    return [Pair(resource, live.get(resource.key)) for resource in desired]


def extraneous(
    desired: Iterable[ResourceKey], candidates: Iterable[ResourceKey]
) -> list[ResourceKey]:
    """Keys in ``candidates`` (e.g. the previous inventory) that are no longer desired, sorted."""
    wanted = set(desired)
    return sorted({key for key in candidates if key not in wanted})
