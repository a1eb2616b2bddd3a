"""A plan (what to do, in which order) and a change set (what was done).

The plan stage produces a :class:`Plan` from desired and live objects without I/O; the
apply stage executes it and reports a :class:`ChangeSet`. "Prune" is an action like any
other, not a missing object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gitward.model.health import Health
from gitward.model.resource import JsonObject, Resource, ResourceKey


class Phase(StrEnum):
    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"


PHASE_ORDER = (Phase.PRE_SYNC, Phase.SYNC, Phase.POST_SYNC, Phase.SYNC_FAIL)


class HookDeletePolicy(StrEnum):
    BEFORE_HOOK_CREATION = "BeforeHookCreation"
    HOOK_SUCCEEDED = "HookSucceeded"
    HOOK_FAILED = "HookFailed"


class Action(StrEnum):
    """What the plan intends to do with one object."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REPLACE = "replace"  # delete and re-create (opt-in, for immutable fields)
    PRUNE = "prune"
    KEEP = "keep"  # would be pruned, but is protected (Prune=false) or pruning is off
    HOOK = "hook"  # a hook object, run at its phase


class Outcome(StrEnum):
    """What happened to one object when the plan ran."""

    CREATED = "created"
    CONFIGURED = "configured"
    UNCHANGED = "unchanged"
    REPLACED = "replaced"
    PRUNED = "pruned"
    SKIPPED = "skipped"
    FAILED = "failed"
    HOOK_SUCCEEDED = "hook succeeded"
    HOOK_FAILED = "hook failed"


@dataclass(frozen=True)
class FieldChange:
    """One changed leaf, by JSON pointer; values already masked when secret."""

    pointer: str
    before: object
    after: object


@dataclass(frozen=True)
class Step:
    """One planned operation on one object."""

    key: ResourceKey
    action: Action
    phase: Phase = Phase.SYNC
    wave: int = 0
    desired: Resource | None = None
    live: JsonObject | None = field(default=None, repr=False)
    changes: tuple[FieldChange, ...] = ()
    reason: str = ""
    hook_delete_policies: tuple[HookDeletePolicy, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Steps in execution order: phase, then wave, then kind rank, then name."""

    steps: tuple[Step, ...]
    prune_last: bool = False

    @property
    def in_sync(self) -> bool:
        return all(s.action in (Action.UNCHANGED, Action.KEEP) for s in self.steps)

    def waves(self, phase: Phase) -> list[tuple[int, list[Step]]]:
        """The non-prune steps of ``phase`` grouped by wave, in order."""
        grouped: dict[int, list[Step]] = {}
        for step in self.steps:
            if step.phase is phase and step.action is not Action.PRUNE:
                grouped.setdefault(step.wave, []).append(step)
        return sorted(grouped.items())

    @property
    def prunes(self) -> list[Step]:
        return [s for s in self.steps if s.action is Action.PRUNE]


@dataclass(frozen=True)
class Change:
    """The result for one object."""

    key: ResourceKey
    outcome: Outcome
    message: str = ""
    health: Health | None = None
    phase: Phase = Phase.SYNC
    wave: int = 0


@dataclass(frozen=True)
class ChangeSet:
    changes: tuple[Change, ...] = ()

    @property
    def failed(self) -> bool:
        return any(c.outcome in (Outcome.FAILED, Outcome.HOOK_FAILED) for c in self.changes)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.changes if c.outcome is outcome)
