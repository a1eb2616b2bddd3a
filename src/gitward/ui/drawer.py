"""The object drawer: one object's live YAML, desired YAML, diff, drift and history.

Before: the engine's look (:func:`gitward.ui.details.look` runs it) holds every object's
desired body, the server's dry-run prediction and the live object; the history store
holds what each sync did to each object. After: ``_object.html`` shows this view.

Both YAML documents pass through :func:`gitward.plan.normalize.normalize_pair` first,
the code ``gitward diff`` uses, so server bookkeeping is gone and a Secret's values are
masked on both sides before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gitward.model import Action, AppSpec, FieldChange, JsonObject
from gitward.model.history import SyncRecord
from gitward.model.plan import Step
from gitward.plan.diff import to_yaml, unified_diff
from gitward.plan.normalize import normalize_pair
from gitward.reconcile.pipeline import Look
from gitward.ui.details import DiffLine, diff_lines
from gitward.ui.drift import drifted_fields


@dataclass(frozen=True)
class Outcome:
    """What one sync did to this object."""

    sync: int
    at: datetime
    sha: str
    trigger: str
    actor: str
    outcome: str
    message: str


@dataclass(frozen=True)
class ObjectDrawer:
    key: str
    action: str
    reason: str
    live_yaml: str  # "" when the object does not exist yet
    desired_yaml: str  # "" when Git no longer has it (to prune)
    lines: tuple[DiffLine, ...]
    drift: tuple[FieldChange, ...]
    history: tuple[Outcome, ...]


def find(planned: Look, key: str) -> Step | None:
    """The plan's step for the object named ``key`` (``group/Kind/namespace/name``)."""
    return next((s for s in planned.plan.steps if str(s.key) == key), None)


def drawer(planned: Look, spec: AppSpec, step: Step, syncs: Sequence[SyncRecord]) -> ObjectDrawer:
    """Everything the drawer shows about ``step``'s object; secrets already masked."""
    key = step.key
    desired: JsonObject | None = None
    if step.desired is not None and step.action is not Action.PRUNE:
        desired = planned.predicted.get(key, step.desired.body)
    live = planned.live.get(key) or step.live
    if step.action is Action.CREATE:
        live = None
    desired_n, live_n = normalize_pair(key, desired, live, spec.ignore_differences)
    return ObjectDrawer(
        key=str(key),
        action=step.action.value,
        reason=step.reason,
        live_yaml=to_yaml(live_n) if live_n is not None else "",
        desired_yaml=to_yaml(desired_n) if desired_n is not None else "",
        lines=diff_lines(unified_diff(live_n, desired_n, str(key))),
        drift=drifted_fields(key, desired, live, spec.ignore_differences),
        history=history(str(key), syncs),
    )


def history(key: str, syncs: Sequence[SyncRecord]) -> tuple[Outcome, ...]:
    """The object's own history: every recorded sync that did something to it, newest first."""
    return tuple(
        Outcome(
            sync=s.id,
            at=s.started_at,
            sha=s.sha or "",
            trigger=s.trigger.value,
            actor=s.actor,
            outcome=a.outcome.value,
            message=a.message,
        )
        for s in syncs
        for a in s.actions
        if str(a.key) == key
    )
