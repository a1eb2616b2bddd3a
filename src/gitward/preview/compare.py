"""Pair the objects of one app at two states and diff them, secrets masked.

Two comparisons share one result type. :func:`compare_renders` compares the base
commit's render with the head commit's (no cluster needed: what the pull request
changes in Git). :func:`diff_from_plan` takes the engine's plan of head against live
(server-side dry-run: what will really change on merge). Either way an object diff is
the unified YAML diff of both sides after :func:`gitward.plan.normalize_pair`, which
strips server fields, applies ignore rules and masks Secret values, so a diff shows
*that* a secret changed and never its value.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gitward.model import (
    Action,
    AppSpec,
    IgnoreDifferences,
    JsonObject,
    Resource,
    ResourceKey,
    Step,
)
from gitward.model.policy import Violation
from gitward.plan import normalize_pair
from gitward.plan.diff import to_yaml
from gitward.plan.normalize import is_secret, secret_as_stored

_SHOWN = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.PRUNE)


@dataclass(frozen=True)
class ObjectDiff:
    """One object that changes: what happens to it and the masked unified diff."""

    key: ResourceKey
    action: Action  # create, update, replace or prune (prune: removed from Git)
    diff: str


@dataclass(frozen=True)
class AppPreview:
    """One app the change touches, where it deploys, its diffs and its policy verdict."""

    app: str
    cluster: str
    namespace: str
    objects: tuple[ObjectDiff, ...]
    violations: tuple[Violation, ...] = ()
    error: str | None = None  # head does not render (or cannot be compared live)
    status: str = "changed"  # changed, added (new at head) or removed (gone at head)

    @property
    def denied(self) -> bool:
        return self.error is not None or any(v.mode.value == "deny" for v in self.violations)

    def count(self, action: Action) -> int:
        return sum(o.action is action for o in self.objects)


@dataclass(frozen=True)
class Preview:
    repo: str
    base: str
    head: str
    mode: str  # "render" (base vs head) or "live" (head vs the cluster)
    apps: tuple[AppPreview, ...] = field(default=())
    unchanged: int = 0  # apps whose output is the same at both commits

    @property
    def failed(self) -> bool:
        return any(a.denied for a in self.apps)

    @property
    def clusters(self) -> tuple[str, ...]:
        return tuple(sorted({a.cluster for a in self.apps}))


def cluster_of(app: AppSpec) -> str:
    return app.destination.name or app.destination.server or "in-cluster"


def compare_renders(
    app: AppSpec, base: Sequence[Resource] | None, head: Sequence[Resource] | None
) -> tuple[ObjectDiff, ...]:
    """Objects that differ between two renders (``None``: the app does not exist there)."""
    before = {r.key: r.body for r in base or ()}
    after = {r.key: r.body for r in head or ()}
    found = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if is_secret(key):  # stringData and data are one thing once stored
            old = secret_as_stored(old) if old is not None else None
            new = secret_as_stored(new) if new is not None else None
        new_n, old_n = normalize_pair(key, new, old, app.ignore_differences)
        if old_n == new_n:
            continue
        action = Action.CREATE if old is None else Action.PRUNE if new is None else Action.UPDATE
        found.append(ObjectDiff(key, action, _unified(old_n, new_n, str(key), "base", "head")))
    return tuple(found)


def diff_from_plan(
    steps: Sequence[Step],
    predicted: Mapping[ResourceKey, JsonObject],
    ignore: Sequence[IgnoreDifferences] = (),
) -> tuple[ObjectDiff, ...]:
    """Objects the engine's plan would change: the dry-run result against live."""
    found = []
    for step in steps:
        if step.action not in _SHOWN:
            continue
        after: JsonObject | None = None
        if step.action is not Action.PRUNE and step.desired is not None:
            after = predicted.get(step.key, step.desired.body)
        live = step.live if step.action is not Action.CREATE else None
        after_n, live_n = normalize_pair(step.key, after, live, ignore)
        text = _unified(live_n, after_n, str(step.key), "live", "head")
        found.append(ObjectDiff(step.key, step.action, text))
    return tuple(found)


def _unified(
    before: JsonObject | None, after: JsonObject | None, label: str, old: str, new: str
) -> str:
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(keepends=True),
        to_yaml(after).splitlines(keepends=True),
        fromfile=f"{label} ({old})",
        tofile=f"{label} ({new})",
        n=3,
    )
    return "".join(lines)
