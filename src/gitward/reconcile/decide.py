"""The reconcile decision, as pure functions: what to do next with one app, and when
to come back.

Before: the controller gathers :class:`Facts` (the app's policy and status, why it was
queued, and as much as it has learnt so far). After: the controller carries the
:class:`Decision` out (:mod:`gitward.reconcile.step`) and the status transitions below
say what is recorded. Nothing here does I/O or reads a clock, so every rule is a row
in a table test (``tests/reconcile/test_decide.py``).

:func:`decide` is asked again each time the controller learns more, so that it learns
no more than it needs: first with no revision (``RESOLVE`` unless the app is suspended
or waits for a dependency), then with the commit Git wants (``LOOK`` unless nothing
moved), then with the plan (record it, or ``SYNC``), and after a sync or an error.
The rules, first match wins:

=====  ===========================================================  =====================
 row    when                                                         then
=====  ===========================================================  =====================
  1     the app is suspended (declared, or by a person)              SUSPENDED, no requeue
  2     a ``dependsOn`` app is not Synced and Healthy                WAIT, recheck in 5 s
  3     an error that says it is transient                           BACK_OFF
  4     a sync failed on some objects, with retries left             BACK_OFF
  5     any other error, or the retries are used up                  REPORT, next poll
  6     a sync just succeeded                                        RECORD_SYNCED, next poll
  7     no commit resolved yet                                       RESOLVE
  8     a permanent failure at this commit, and no person asked      NOTHING, next poll
  9     a poll; the commit is live, Synced, no change in the cluster NOTHING, next poll
 10     not looked yet                                               LOOK
 11     a person asked for a sync (sync, rollback)                   SYNC
 11b    a restart interrupted the last sync, and it is automated     SYNC (finish it)
 12     in sync                                                      RECORD_IN_SYNC, next poll
 13     a health refresh (it never syncs)                            RECORD_DRIFT, next poll
 14     not automated                                                RECORD_DRIFT, next poll
 15     drift in the cluster, and self-heal is off                   RECORD_DRIFT, next poll
 16     otherwise: automated, and Git moved or self-heal is on       SYNC
=====  ===========================================================  =====================

BACK_OFF comes back with the same trigger after ``backoff`` seconds: the app's
``syncPolicy.retry`` (default 5 s, doubling, at most 180 s). Transient errors are retried
for as long as they last; failed syncs ``retry.limit`` times (default 5). REPORT shows
the error at once and comes back at the next poll, which does nothing at the same
commit (row 8): only a new commit, a changed declaration or a person tries again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gitward.errors import GitwardError
from gitward.model import (
    AppSpec,
    Health,
    HealthStatus,
    RetryPolicy,
    Revision,
    SyncPolicy,
)
from gitward.model.history import (
    SYSTEM_ACTOR,
    AppStatus,
    Condition,
    SyncState,
    SyncTrigger,
    Trigger,
)

DEFAULT_RETRY = RetryPolicy()  # when the app declares none: 5 s doubling to 3 min, 5 tries


class Do(StrEnum):
    SUSPENDED = "suspended"
    WAIT = "wait for a dependency"
    RESOLVE = "resolve"
    LOOK = "look"
    NOTHING = "nothing"
    RECORD_IN_SYNC = "record in sync"
    RECORD_DRIFT = "record drift"
    SYNC = "sync"
    RECORD_SYNCED = "record synced"
    BACK_OFF = "back off"
    REPORT = "report"


@dataclass(frozen=True)
class Failure:
    """What went wrong in this reconcile, reduced to what the decision needs."""

    message: str
    transient: bool
    sync: bool = False  # a sync ran and some objects failed (retried up to the limit)
    unreachable: bool = False  # the cluster did not answer: its live state is unknown


@dataclass(frozen=True)
class PlanSummary:
    in_sync: bool
    differing: tuple[str, ...] = ()  # the objects a sync would change, for the condition


@dataclass(frozen=True)
class Facts:
    """Everything :func:`decide` may look at; later fields are None until learnt."""

    trigger: Trigger
    policy: SyncPolicy
    status: AppStatus
    suspended: bool = False  # by the declaration (``spec.suspend``) or ``status.suspended``
    waiting_for: str = ""  # why a dependency is not ready; "" when all are
    dirty: bool = False  # objects changed in the cluster since the last successful look
    interrupted: bool = False  # a restart cut the last sync off; not finished since
    failures: int = 0  # consecutive failed attempts so far
    failed_at: str | None = None  # the commit a permanent failure was reported at
    revision: str | None = None  # the commit to look at, once resolved
    plan: PlanSummary | None = None  # once looked
    synced: bool = False  # a sync ran in this reconcile and every object succeeded
    failure: Failure | None = None


@dataclass(frozen=True)
class Requeue:
    """Come back after ``after`` seconds, queued with ``trigger`` (and its actor)."""

    after: float
    trigger: Trigger = Trigger.POLL
    actor: str = SYSTEM_ACTOR


@dataclass(frozen=True)
class Timing:
    poll: float  # seconds to the next poll, jitter already applied
    dependency_recheck: float = 5.0


@dataclass(frozen=True)
class Decision:
    do: Do
    reason: str
    requeue: Requeue | None = None  # None: only a new trigger brings the app back
    record_as: SyncTrigger | None = None  # for SYNC: the trigger written to the history


def decide(facts: Facts, timing: Timing, actor: str = SYSTEM_ACTOR) -> Decision:
    """The next thing to do with one app (see the table in the module docstring)."""
    f, poll = facts, Requeue(timing.poll)
    if f.suspended:  # row 1
        return Decision(Do.SUSPENDED, "reconciliation is suspended")
    if f.waiting_for:  # row 2
        again = Requeue(timing.dependency_recheck, f.trigger, actor)
        return Decision(Do.WAIT, f.waiting_for, again)
    if f.failure is not None:  # rows 3 to 5
        return _after_failure(f, f.failure, poll, actor)
    if f.synced:  # row 6
        return Decision(Do.RECORD_SYNCED, "synced", poll)
    if f.revision is None or f.plan is None:  # rows 7 to 10
        return _to_learn(f, poll)
    return _after_look(f, f.plan, poll)  # rows 11 to 16


def _to_learn(f: Facts, poll: Requeue) -> Decision:
    if f.revision is None:
        return Decision(Do.RESOLVE, "which commit Git wants")
    if f.failed_at == f.revision and not f.trigger.by_person:
        reason = "a permanent failure at this commit waits for a new commit or a person"
        return Decision(Do.NOTHING, reason, poll)
    if _quiet(f):
        return Decision(Do.NOTHING, "nothing moved in Git or in the cluster", poll)
    return Decision(Do.LOOK, "compare Git with the cluster")


def _quiet(f: Facts) -> bool:
    return (
        f.trigger is Trigger.POLL
        and not f.dirty
        and f.status.sync_state is SyncState.SYNCED
        and f.status.live_sha == f.revision
    )


def _after_look(f: Facts, plan: PlanSummary, poll: Requeue) -> Decision:
    policy = f.policy
    # Rows 11 and 11b: an interrupted sync is finished even in sync, since its record
    # and the inventory are not.
    if f.trigger.asks_sync or (f.interrupted and policy.automated):
        reason = "a person asked" if f.trigger.asks_sync else "finish an interrupted sync"
        return Decision(Do.SYNC, reason, record_as=f.trigger.recorded(policy.self_heal))
    if plan.in_sync:
        return Decision(Do.RECORD_IN_SYNC, "the cluster is as Git says", poll)
    if f.trigger is Trigger.HEALTH:
        return Decision(Do.RECORD_DRIFT, "a health refresh never syncs", poll)
    if not policy.automated:
        return Decision(Do.RECORD_DRIFT, "not automated: waits for a person", poll)
    if f.trigger.drift and not policy.self_heal:
        return Decision(Do.RECORD_DRIFT, "drift, and self-heal is off", poll)
    reason = "drift, healed" if f.trigger.drift else "Git moved"
    return Decision(Do.SYNC, reason, record_as=f.trigger.recorded(policy.self_heal))


def _after_failure(f: Facts, failure: Failure, poll: Requeue, actor: str) -> Decision:
    retry = f.policy.retry or DEFAULT_RETRY
    attempt = f.failures + 1
    if failure.transient or (failure.sync and (retry.limit < 0 or attempt <= retry.limit)):
        again = Requeue(backoff(retry, attempt), f.trigger, actor)
        return Decision(Do.BACK_OFF, f"attempt {attempt} failed; retrying", again)
    if failure.sync:
        return Decision(Do.REPORT, f"the sync failed {attempt} times; waits for a new commit", poll)
    return Decision(Do.REPORT, "retrying cannot help; waits for a new commit or a person", poll)


def backoff(retry: RetryPolicy, attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential, capped."""
    delay = retry.backoff_seconds * retry.factor ** (max(attempt, 1) - 1)
    return float(min(retry.max_backoff_seconds, delay))


# ---------------------------------------------------------------------------- facts


def waiting_for(
    depends_on: Sequence[str], declared: Collection[str], statuses: Mapping[str, AppStatus]
) -> str:
    """Why the first dependency that is not Synced and Healthy is not; "" if none."""
    for name in depends_on:
        dep = statuses.get(name)
        if name not in declared or dep is None:
            return f"waiting for {name}: it is not declared"
        if dep.sync_state is not SyncState.SYNCED:
            return f"waiting for {name}: it is {dep.sync_state.value}"
        if dep.health.status is not HealthStatus.HEALTHY:
            return f"waiting for {name}: it is {dep.health.status.value}"
    return ""


def wanted(spec: AppSpec, status: AppStatus) -> AppSpec:
    """The app as it must be synced: at the pinned commit while a rollback pin holds."""
    if status.pin is None:
        return spec
    source = dataclasses.replace(spec.source, target_revision=status.pin.sha)
    return dataclasses.replace(spec, source=source)


def known_revision(app: AppSpec, status: AppStatus, trigger: Trigger) -> Revision | None:
    """The commit to look at when it needs no Git request, else None.

    A health refresh looks at the commit that is live: it re-reads health, and must not
    pick up (and sync) a commit a push has not announced yet.
    """
    if trigger is Trigger.HEALTH and status.live_sha:
        source = app.source
        return Revision(source.repo_url, source.target_revision, status.live_sha)
    return None


# ---------------------------------------------------------------------------- memory


@dataclass(frozen=True)
class Memory:
    """What the controller remembers about an app between reconciles (not persisted)."""

    failures: int = 0
    failed_at: str | None = None
    dirty: bool = False
    interrupted: bool = False  # set at start for apps whose sync a crash cut off


def remember(memory: Memory, decision: Decision, revision: str | None) -> Memory:
    """The memory after ``decision`` was carried out.

    Failures count up while retrying and reset once a reconcile gets through; a report
    ends the series and remembers the commit it failed at (row 8), so that a new commit
    gets retries of its own. Cluster changes stay marked until a look has recorded
    them, so a retry after a failure still heals drift; a sync a restart interrupted
    stays to be finished through retries, until a sync or a report ends the story.
    """
    if decision.do is Do.BACK_OFF:
        return dataclasses.replace(memory, failures=memory.failures + 1)
    if decision.do is Do.REPORT:
        return Memory(0, revision, memory.dirty)
    if decision.do in (Do.RECORD_IN_SYNC, Do.RECORD_DRIFT, Do.RECORD_SYNCED):
        return Memory()
    return memory


# ---------------------------------------------------------------------------- status


def suspended(status: AppStatus) -> AppStatus:
    return _with(status, Condition("Suspended", "True", "reconciliation is suspended"))


def waiting(status: AppStatus, reason: str) -> AppStatus:
    return _with(status, Condition("WaitingForDependency", "True", reason))


def cause(error: Exception) -> str:
    """An error as people see it: gitward's own messages are written for them (without
    secrets); anything else is a bug, whose traceback goes to the log only."""
    if isinstance(error, GitwardError):
        return str(error)
    return f"{type(error).__name__}, a bug: the log of gitward serve has the traceback"


def errored(status: AppStatus, message: str) -> AppStatus:
    """A failure before any sync: the last known sync state stays, the error is shown."""
    return _with(status, Condition("ReconcileError", "True", message))


def unreachable(status: AppStatus, message: str) -> AppStatus:
    """The app's cluster did not answer: what is live there is not known any more."""
    return dataclasses.replace(
        status,
        sync_state=SyncState.UNKNOWN,
        health=Health(HealthStatus.UNKNOWN, message),
        conditions=(Condition("ClusterUnreachable", "True", message),),
    )


def observed(status: AppStatus, revision: Revision, health: Health, plan: PlanSummary) -> AppStatus:
    """A look without a sync: Synced (the commit is live), or OutOfSync with what differs."""
    if plan.in_sync:
        return dataclasses.replace(
            status,
            sync_state=SyncState.SYNCED,
            health=health,
            wanted=revision,
            live_sha=revision.sha,
            conditions=(),
        )
    changed = ", ".join(plan.differing)[:500]
    return dataclasses.replace(
        status,
        sync_state=SyncState.OUT_OF_SYNC,
        health=health,
        wanted=revision,
        conditions=(Condition("OutOfSync", "True", f"differs from Git: {changed}"),),
    )


def sync_finished(
    status: AppStatus,
    revision: Revision,
    health: Health,
    record_id: int,
    failure: str | None,
) -> AppStatus:
    """A sync ended: Synced at its commit, or OutOfSync with why it failed."""
    if failure is None:
        return dataclasses.replace(
            status,
            sync_state=SyncState.SYNCED,
            health=health,
            wanted=revision,
            live_sha=revision.sha,
            last_sync_id=record_id,
            conditions=(),
        )
    return dataclasses.replace(
        status,
        sync_state=SyncState.OUT_OF_SYNC,
        health=health,
        wanted=revision,
        last_sync_id=record_id,
        conditions=(Condition("SyncFailed", "True", failure),),
    )


def _with(status: AppStatus, condition: Condition) -> AppStatus:
    return dataclasses.replace(status, conditions=(condition,))
