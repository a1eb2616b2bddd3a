"""What gitward remembers about applications: status, sync history and the audit log.

The reconcile loop and the API write these records through the store
(:mod:`gitward.store`) and read them back for people: the UI, the CLI and the HTTP API.
Every text field arrives already masked: the store never receives a plaintext secret.
Timestamps are aware ``datetime`` values in UTC, taken from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gitward.model.health import Health, HealthStatus
from gitward.model.plan import Change, ChangeSet, Outcome
from gitward.model.resource import JsonObject, ResourceKey
from gitward.model.revision import Revision
from gitward.model.syncrequest import SyncRequest


class SyncState(StrEnum):
    """Whether the live objects match what Git wants."""

    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class SyncTrigger(StrEnum):
    """What started a sync, so that history explains why something changed."""

    POLL = "poll"
    REFRESH = "refresh"  # a look now: on start, after resume or unpin, when asked
    WEBHOOK = "webhook"
    WATCH = "watch"
    MANUAL = "manual"
    ROLLBACK = "rollback"
    SELFHEAL = "selfheal"


class Trigger(StrEnum):
    """Why an app was queued for a reconcile, weakest first.

    When an app is queued twice before it runs, the stronger trigger is kept: a push
    outranks drift (it says better why a sync happened, and the sync repairs the drift
    too), and a person outranks everything automatic.
    """

    POLL = "poll"  # the poll timer, or a retry after a failure
    HEALTH = "health"  # gitward's own write or a status update: refresh health, never sync
    WATCH = "watch"  # a change in the cluster by someone else (drift), without self-heal
    SELFHEAL = "selfheal"  # the same, for an app with self-heal
    WEBHOOK = "webhook"  # a Git push to the app's repository
    REFRESH = "refresh"  # a look now: on start, after a declaration changed, resume, unpin
    MANUAL = "manual"  # a person asked for a sync
    ROLLBACK = "rollback"  # a person pinned the app to a commit

    @property
    def priority(self) -> int:
        return _TRIGGER_ORDER.index(self)

    @property
    def drift(self) -> bool:
        """Something changed in the cluster, not in Git."""
        return self in (Trigger.WATCH, Trigger.SELFHEAL)

    @property
    def asks_sync(self) -> bool:
        """A person asked for a sync: it runs even without automation, even in sync."""
        return self in (Trigger.MANUAL, Trigger.ROLLBACK)

    @property
    def by_person(self) -> bool:
        """A person (or a changed declaration) asked: a permanent failure is tried again."""
        return self in (Trigger.REFRESH, Trigger.MANUAL, Trigger.ROLLBACK)

    def recorded(self, self_heal: bool) -> SyncTrigger:
        """The trigger a sync started by this one is recorded with in the history."""
        if self.drift:
            return SyncTrigger.SELFHEAL if self_heal else SyncTrigger.WATCH
        if self is Trigger.HEALTH:
            return SyncTrigger.WATCH  # never syncs (see decide); kept total
        return SyncTrigger(self.value)


_TRIGGER_ORDER = tuple(Trigger)


class SyncResult(StrEnum):
    """How a sync ended. ``Running`` rows left by a crash become ``Interrupted``."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"


class AuditOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DENIED = "denied"  # refused by authentication or authorization


SYSTEM_ACTOR = "gitward"  # the actor of everything gitward does on its own
UNKNOWN_HEALTH = Health(HealthStatus.UNKNOWN)  # before the first observation


@dataclass(frozen=True)
class Condition:
    """One observation about an application, like Kubernetes status conditions."""

    type: str
    status: str  # "True", "False" or "Unknown"
    message: str = ""


@dataclass(frozen=True)
class Pin:
    """A rollback pin: sync this commit, whatever Git says, until a person releases it.

    With ``release_after`` (the branch head when the pin was made), the pin is also
    released as soon as the branch moves past that commit: a fix pushed to Git ends
    the rollback by itself.
    """

    sha: str
    by: str
    at: datetime
    reason: str = ""
    release_after: str | None = None


@dataclass(frozen=True)
class AppStatus:
    """The last known state of one application.

    ``pin`` and ``suspended`` are a person's decisions: the store changes them only
    through its pin/suspend calls, so a status written by the loop never undoes them.
    """

    app: str
    sync_state: SyncState = SyncState.UNKNOWN
    health: Health = UNKNOWN_HEALTH
    live_sha: str | None = None
    wanted: Revision | None = None
    pin: Pin | None = None
    suspended: bool = False
    conditions: tuple[Condition, ...] = ()
    last_sync_id: int | None = None  # the id of the latest sync history record
    updated_at: datetime | None = None  # set by the store when written


@dataclass(frozen=True)
class ObjectAction:
    """What one sync did to one object."""

    key: ResourceKey
    outcome: Outcome
    message: str = ""

    @classmethod
    def from_change(cls, change: Change) -> ObjectAction:
        return cls(change.key, change.outcome, change.message)


def actions_of(changes: ChangeSet) -> tuple[ObjectAction, ...]:
    """The history form of an apply stage's change set."""
    return tuple(ObjectAction.from_change(c) for c in changes.changes)


@dataclass(frozen=True)
class SyncRecord:
    """One sync attempt, written when it starts and completed when it ends."""

    id: int
    app: str
    repo_url: str
    requested: str  # the branch, tag, SHA or range that was asked for
    sha: str | None  # the commit it resolved to; None if it never resolved
    trigger: SyncTrigger
    actor: str  # a user name, or SYSTEM_ACTOR
    owner: str  # the controller replica that ran it, for crash recovery
    started_at: datetime
    finished_at: datetime | None = None
    result: SyncResult = SyncResult.RUNNING
    message: str = ""
    actions: tuple[ObjectAction, ...] = ()
    diff_summary: str = ""  # masked by the caller
    request: SyncRequest = field(default_factory=SyncRequest)  # a person's options

    @property
    def revision(self) -> Revision | None:
        return Revision(self.repo_url, self.requested, self.sha) if self.sha else None


@dataclass(frozen=True)
class AuditEntry:
    """One action a person or gitward took through the API; the log is append-only."""

    id: int
    at: datetime
    actor: str
    action: str  # "sync", "rollback", "suspend", "login", "webhook", ...
    target: str  # what it acted on, e.g. an app name or a webhook source
    outcome: AuditOutcome
    app: str | None = None  # the application concerned, for per-app listings
    details: JsonObject = field(default_factory=dict)
