"""History: the difference between the objects Git held at two recorded syncs.

Before: two rows of the app's sync history, each with the commit it resolved to. After:
``compare.html`` shows, object by object, what changed from the older commit to the
newer one. Both commits are rendered by the engine (the same render a sync does), then
each pair goes through :func:`gitward.plan.normalize.normalize_pair`, so a Secret's
values are masked (equal values keep equal masks: a changed secret shows *that* it
changed, never its content).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitward.errors import ConfigError
from gitward.model import AppSpec, JsonObject, ResourceKey
from gitward.model.history import SyncRecord
from gitward.plan.diff import unified_diff
from gitward.plan.normalize import normalize_pair
from gitward.reconcile.pipeline import Engine
from gitward.ui.details import DiffLine, diff_lines


@dataclass(frozen=True)
class ObjectChange:
    key: str
    change: str  # "added", "removed", "changed"
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class Comparison:
    older: SyncRecord
    newer: SyncRecord
    changes: tuple[ObjectChange, ...]
    unchanged: int


def ordered(a: SyncRecord, b: SyncRecord) -> tuple[SyncRecord, SyncRecord]:
    """The two rows, older first; each must have resolved to a commit."""
    for record in (a, b):
        if record.revision is None:
            raise ConfigError(f"sync {record.id} never resolved a commit: pick another row")
    return (a, b) if a.id <= b.id else (b, a)


async def compare(engine: Engine, spec: AppSpec, a: SyncRecord, b: SyncRecord) -> Comparison:
    older, newer = ordered(a, b)
    before = await _objects(engine, spec, older)
    after = await _objects(engine, spec, newer)
    return Comparison(older, newer, *changes(spec, before, after))


async def _objects(
    engine: Engine, spec: AppSpec, record: SyncRecord
) -> dict[ResourceKey, JsonObject]:
    revision = record.revision
    if revision is None:  # ordered() refused it already
        raise ConfigError(f"sync {record.id} never resolved a commit")
    return {r.key: r.body for r in await engine.render(spec, revision)}


def changes(
    spec: AppSpec,
    before: Mapping[ResourceKey, JsonObject],
    after: Mapping[ResourceKey, JsonObject],
) -> tuple[tuple[ObjectChange, ...], int]:
    """Per object, the diff from ``before`` to ``after`` (masked); and how many are equal."""
    out, unchanged = [], 0
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        new_n, old_n = normalize_pair(key, new, old, spec.ignore_differences)
        text = unified_diff(old_n, new_n, str(key))
        if not text:
            unchanged += 1
            continue
        change = "added" if old is None else "removed" if new is None else "changed"
        out.append(ObjectChange(str(key), change, diff_lines(text)))
    return tuple(out), unchanged
