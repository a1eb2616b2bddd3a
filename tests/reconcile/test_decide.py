"""The reconcile decision table, one row per rule (see gitward.reconcile.decide)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from gitward.model import (
    AppSpec,
    Health,
    HealthStatus,
    RetryPolicy,
    Revision,
    SourceSpec,
    SyncPolicy,
)
from gitward.model.history import AppStatus, Pin, SyncState, SyncTrigger, Trigger
from gitward.reconcile.decide import (
    Decision,
    Do,
    Facts,
    Failure,
    Memory,
    PlanSummary,
    Requeue,
    Timing,
    backoff,
    decide,
    known_revision,
    observed,
    remember,
    sync_finished,
    waiting_for,
    wanted,
)

T = Trigger
POLL_AFTER = 170.0  # the jittered poll interval the controller passes
TIMING = Timing(poll=POLL_AFTER, dependency_recheck=5.0)
NEXT_POLL = Requeue(POLL_AFTER)

AUTO_HEAL = SyncPolicy(automated=True, self_heal=True)
AUTO = SyncPolicy(automated=True)
MANUAL = SyncPolicy()
HEALTHY = Health(HealthStatus.HEALTHY)

LIVE = "c1"  # the commit that is live
NEW = "c2"  # a commit pushed since
SYNCED = AppStatus("web", SyncState.SYNCED, HEALTHY, live_sha=LIVE)
DRIFTED = dataclasses.replace(SYNCED, sync_state=SyncState.OUT_OF_SYNC)
IN_SYNC = PlanSummary(in_sync=True)
DIFFERS = PlanSummary(in_sync=False, differing=("ConfigMap ns/settings",))


def facts(trigger: Trigger = T.POLL, policy: SyncPolicy = AUTO_HEAL, **known: object) -> Facts:
    """An app as the controller sees it; by default synced, healthy, automated."""
    base = Facts(trigger=trigger, policy=policy, status=SYNCED)
    return dataclasses.replace(base, **known)  # type: ignore[arg-type]


# (id, facts, what to do, when to come back, recorded trigger of a sync)
ROWS: list[tuple[str, Facts, Do, Requeue | None, SyncTrigger | None]] = [
    # 1: suspended apps are left alone, whatever woke them
    ("suspended", facts(T.WEBHOOK, suspended=True, revision=NEW), Do.SUSPENDED, None, None),
    ("suspended, asked", facts(T.MANUAL, suspended=True), Do.SUSPENDED, None, None),
    # 2: a dependency not ready: wait, recheck with the same trigger
    (
        "dependency not ready",
        facts(T.WEBHOOK, waiting_for="waiting for db: it is Progressing"),
        Do.WAIT,
        Requeue(5.0, T.WEBHOOK),
        None,
    ),
    # 7: nothing known yet: resolve the commit
    ("start", facts(T.POLL), Do.RESOLVE, None, None),
    # 9: a poll that finds the live commit and no cluster change does nothing
    ("quiet poll", facts(T.POLL, revision=LIVE), Do.NOTHING, NEXT_POLL, None),
    ("poll, new commit", facts(T.POLL, revision=NEW), Do.LOOK, None, None),
    ("poll, cluster changed", facts(T.POLL, revision=LIVE, dirty=True), Do.LOOK, None, None),
    (
        "poll, last look out of sync",
        facts(T.POLL, status=DRIFTED, revision=LIVE),
        Do.LOOK,
        None,
        None,
    ),
    ("webhook, same commit", facts(T.WEBHOOK, revision=LIVE), Do.LOOK, None, None),
    # 11b: a restart cut the last sync off: an automated app finishes it, even in sync
    (
        "interrupted, in sync",
        facts(T.REFRESH, revision=LIVE, plan=IN_SYNC, interrupted=True),
        Do.SYNC,
        None,
        SyncTrigger.REFRESH,
    ),
    (
        "interrupted, not automated",
        facts(T.REFRESH, MANUAL, revision=LIVE, plan=IN_SYNC, interrupted=True),
        Do.RECORD_IN_SYNC,
        NEXT_POLL,
        None,
    ),
    # 12: in sync
    (
        "in sync",
        facts(T.WEBHOOK, revision=LIVE, plan=IN_SYNC),
        Do.RECORD_IN_SYNC,
        NEXT_POLL,
        None,
    ),
    # 16: automated, Git moved: sync, recorded with what woke it
    (
        "new commit, automated",
        facts(T.WEBHOOK, revision=NEW, plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.WEBHOOK,
    ),
    (
        "new commit found by a poll",
        facts(T.POLL, revision=NEW, plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.POLL,
    ),
    (
        "new commit, automated without self-heal",
        facts(T.WEBHOOK, AUTO, revision=NEW, plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.WEBHOOK,
    ),
    # 16 and 15: drift, with and without self-heal
    (
        "drift, self-heal on",
        facts(T.SELFHEAL, revision=LIVE, dirty=True, plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.SELFHEAL,
    ),
    (
        "drift, self-heal off",
        facts(T.WATCH, AUTO, revision=LIVE, dirty=True, plan=DIFFERS),
        Do.RECORD_DRIFT,
        NEXT_POLL,
        None,
    ),
    (
        "drift event, but in sync again",
        facts(T.SELFHEAL, revision=LIVE, dirty=True, plan=IN_SYNC),
        Do.RECORD_IN_SYNC,
        NEXT_POLL,
        None,
    ),
    # 14: not automated: record, never sync on its own
    (
        "manual app, new commit",
        facts(T.WEBHOOK, MANUAL, revision=NEW, plan=DIFFERS),
        Do.RECORD_DRIFT,
        NEXT_POLL,
        None,
    ),
    (
        "manual app, drift",
        facts(T.WATCH, MANUAL, revision=LIVE, plan=DIFFERS),
        Do.RECORD_DRIFT,
        NEXT_POLL,
        None,
    ),
    # 13: a health refresh never syncs, even if the look differs
    (
        "health refresh",
        facts(T.HEALTH, revision=LIVE, plan=DIFFERS),
        Do.RECORD_DRIFT,
        NEXT_POLL,
        None,
    ),
    ("health refresh looks", facts(T.HEALTH, revision=LIVE), Do.LOOK, None, None),
    # 11: a person asked: sync even without automation, even in sync
    (
        "sync asked, manual app",
        facts(T.MANUAL, MANUAL, revision=NEW, plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.MANUAL,
    ),
    (
        "sync asked, in sync",
        facts(T.MANUAL, revision=LIVE, plan=IN_SYNC),
        Do.SYNC,
        None,
        SyncTrigger.MANUAL,
    ),
    (
        "rollback",
        facts(T.ROLLBACK, revision="c0", plan=DIFFERS),
        Do.SYNC,
        None,
        SyncTrigger.ROLLBACK,
    ),
    # 6: a sync that succeeded
    (
        "synced",
        facts(T.WEBHOOK, revision=NEW, plan=DIFFERS, synced=True),
        Do.RECORD_SYNCED,
        NEXT_POLL,
        None,
    ),
    # 3: transient errors: back off with the same trigger, for as long as they last
    (
        "transient, first",
        facts(T.WEBHOOK, failure=Failure("cluster unreachable", transient=True)),
        Do.BACK_OFF,
        Requeue(5.0, T.WEBHOOK),
        None,
    ),
    (
        "transient, third",
        facts(T.SELFHEAL, failures=2, failure=Failure("timeout", transient=True)),
        Do.BACK_OFF,
        Requeue(20.0, T.SELFHEAL),
        None,
    ),
    (
        "transient, capped",
        facts(T.POLL, failures=40, failure=Failure("timeout", transient=True)),
        Do.BACK_OFF,
        Requeue(180.0, T.POLL),
        None,
    ),
    # 5: permanent errors: report at once, come back only to look for a new commit
    (
        "permanent",
        facts(T.WEBHOOK, revision=NEW, failure=Failure("bad YAML", transient=False)),
        Do.REPORT,
        NEXT_POLL,
        None,
    ),
    # 4 and 5: failed syncs are retried up to the retry limit
    (
        "sync failed, retries left",
        facts(T.WEBHOOK, failures=1, failure=Failure("1 of 2 failed", False, sync=True)),
        Do.BACK_OFF,
        Requeue(10.0, T.WEBHOOK),
        None,
    ),
    (
        "sync failed, retries used up",
        facts(T.WEBHOOK, failures=5, failure=Failure("1 of 2 failed", False, sync=True)),
        Do.REPORT,
        NEXT_POLL,
        None,
    ),
    (
        "sync failed, the app's own retry policy",
        facts(
            T.WEBHOOK,
            dataclasses.replace(AUTO_HEAL, retry=RetryPolicy(limit=1, backoff_seconds=2.0)),
            failure=Failure("1 of 2 failed", False, sync=True),
        ),
        Do.BACK_OFF,
        Requeue(2.0, T.WEBHOOK),
        None,
    ),
    # 8: after a permanent failure at a commit, only a new commit or a person tries again
    ("reported, poll", facts(T.POLL, revision=NEW, failed_at=NEW), Do.NOTHING, NEXT_POLL, None),
    (
        "reported, webhook, same commit",
        facts(T.WEBHOOK, revision=NEW, failed_at=NEW),
        Do.NOTHING,
        NEXT_POLL,
        None,
    ),
    (
        "reported, drift",
        facts(T.SELFHEAL, revision=NEW, failed_at=NEW),
        Do.NOTHING,
        NEXT_POLL,
        None,
    ),
    ("reported, new commit", facts(T.POLL, revision="c3", failed_at=NEW), Do.LOOK, None, None),
    ("reported, refresh", facts(T.REFRESH, revision=NEW, failed_at=NEW), Do.LOOK, None, None),
    ("reported, sync asked", facts(T.MANUAL, revision=NEW, failed_at=NEW), Do.LOOK, None, None),
]


@pytest.mark.parametrize(
    ("given", "do", "requeue", "record_as"), [row[1:] for row in ROWS], ids=[r[0] for r in ROWS]
)
def test_the_decision_table(
    given: Facts, do: Do, requeue: Requeue | None, record_as: SyncTrigger | None
) -> None:
    decision = decide(given, TIMING)

    assert (decision.do, decision.requeue, decision.record_as) == (do, requeue, record_as)
    assert decision.reason


def test_every_rule_of_the_table_has_a_row() -> None:
    assert {row[2] for row in ROWS} == set(Do)


def test_a_retry_keeps_the_actor_who_asked() -> None:
    given = facts(T.MANUAL, failure=Failure("unreachable", transient=True))
    assert decide(given, TIMING, actor="alice").requeue == Requeue(5.0, T.MANUAL, "alice")


@pytest.mark.parametrize(
    ("attempt", "seconds"), [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (7, 180.0), (30, 180.0)]
)
def test_backoff_doubles_up_to_the_ceiling(attempt: int, seconds: float) -> None:
    assert backoff(RetryPolicy(), attempt) == seconds


def test_an_unlimited_retry_policy_never_gives_up() -> None:
    policy = dataclasses.replace(AUTO_HEAL, retry=RetryPolicy(limit=-1))
    given = facts(T.POLL, policy, failures=99, failure=Failure("x", False, sync=True))
    assert decide(given, TIMING).do is Do.BACK_OFF


# ---------------------------------------------------------------------------- triggers


def test_triggers_are_ordered_by_strength() -> None:
    weakest_first = [T.POLL, T.HEALTH, T.WATCH, T.SELFHEAL, T.WEBHOOK, T.REFRESH, T.MANUAL]
    assert sorted(Trigger, key=lambda t: t.priority) == [*weakest_first, T.ROLLBACK]
    assert {t for t in Trigger if t.drift} == {T.WATCH, T.SELFHEAL}
    assert {t for t in Trigger if t.asks_sync} == {T.MANUAL, T.ROLLBACK}


@pytest.mark.parametrize(
    ("trigger", "self_heal", "recorded"),
    [
        (T.WATCH, True, SyncTrigger.SELFHEAL),
        (T.SELFHEAL, True, SyncTrigger.SELFHEAL),
        (T.WATCH, False, SyncTrigger.WATCH),
        (T.WEBHOOK, True, SyncTrigger.WEBHOOK),
        (T.POLL, True, SyncTrigger.POLL),
        (T.REFRESH, False, SyncTrigger.REFRESH),
        (T.ROLLBACK, False, SyncTrigger.ROLLBACK),
    ],
)
def test_a_sync_is_recorded_with_why_it_ran(
    trigger: Trigger, self_heal: bool, recorded: SyncTrigger
) -> None:
    assert trigger.recorded(self_heal) is recorded


# ---------------------------------------------------------------------------- memory


@pytest.mark.parametrize(
    ("before", "do", "after"),
    [
        (Memory(), Do.BACK_OFF, Memory(failures=1)),
        (Memory(failures=3, dirty=True), Do.BACK_OFF, Memory(failures=4, dirty=True)),
        (Memory(failures=3), Do.REPORT, Memory(failures=0, failed_at=NEW)),
        (Memory(failures=2, failed_at="c0", dirty=True), Do.RECORD_SYNCED, Memory()),
        # an interrupted sync stays to be finished through retries, until a sync ends it
        (Memory(interrupted=True), Do.BACK_OFF, Memory(failures=1, interrupted=True)),
        (Memory(interrupted=True), Do.RECORD_SYNCED, Memory()),
        (Memory(dirty=True), Do.RECORD_DRIFT, Memory()),
        (Memory(failed_at=NEW), Do.NOTHING, Memory(failed_at=NEW)),
        (Memory(dirty=True), Do.WAIT, Memory(dirty=True)),
    ],
)
def test_what_is_remembered_between_reconciles(before: Memory, do: Do, after: Memory) -> None:
    assert remember(before, Decision(do, "why"), NEW) == after


# ---------------------------------------------------------------------------- facts


def status(name: str, state: SyncState, health: HealthStatus) -> AppStatus:
    return AppStatus(name, state, Health(health))


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"db": status("db", SyncState.SYNCED, HealthStatus.HEALTHY)}, ""),
        (
            {"db": status("db", SyncState.OUT_OF_SYNC, HealthStatus.HEALTHY)},
            "waiting for db: it is OutOfSync",
        ),
        (
            {"db": status("db", SyncState.SYNCED, HealthStatus.PROGRESSING)},
            "waiting for db: it is Progressing",
        ),
        ({}, "waiting for db: it is not declared"),
    ],
)
def test_waiting_for_a_dependency(statuses: dict[str, AppStatus], expected: str) -> None:
    assert waiting_for(("db",), set(statuses), statuses) == expected


SPEC = AppSpec(
    "web", SourceSpec(repo_url="https://git.example/web.git", target_revision="main", path="app")
)
PIN = Pin("c0", "alice", datetime(2026, 11, 30, tzinfo=UTC))


def test_a_pin_decides_the_commit_to_sync() -> None:
    assert wanted(SPEC, SYNCED) is SPEC
    pinned = wanted(SPEC, dataclasses.replace(SYNCED, pin=PIN))
    assert pinned.source.target_revision == "c0"
    assert pinned.source.repo_url == SPEC.source.repo_url


def test_a_health_refresh_looks_at_the_live_commit_without_asking_git() -> None:
    assert known_revision(SPEC, SYNCED, T.HEALTH) == Revision(SPEC.source.repo_url, "main", LIVE)
    assert known_revision(SPEC, SYNCED, T.POLL) is None
    never_synced = dataclasses.replace(SYNCED, live_sha=None)
    assert known_revision(SPEC, never_synced, T.HEALTH) is None


# ---------------------------------------------------------------------------- status


def test_a_look_records_synced_or_what_differs() -> None:
    revision = Revision(SPEC.source.repo_url, "main", NEW)
    assert observed(DRIFTED, revision, HEALTHY, IN_SYNC) == dataclasses.replace(
        SYNCED, wanted=revision, live_sha=NEW
    )
    drift = observed(SYNCED, revision, HEALTHY, DIFFERS)
    assert drift.sync_state is SyncState.OUT_OF_SYNC
    assert drift.live_sha == LIVE  # what differs is not live
    assert drift.conditions[0].type == "OutOfSync"
    assert "ConfigMap ns/settings" in drift.conditions[0].message


def test_a_sync_records_its_commit_or_its_failure() -> None:
    revision = Revision(SPEC.source.repo_url, "main", NEW)
    done = sync_finished(DRIFTED, revision, HEALTHY, 7, None)
    assert (done.sync_state, done.live_sha, done.last_sync_id) == (SyncState.SYNCED, NEW, 7)
    failed = sync_finished(SYNCED, revision, HEALTHY, 8, "1 of 2 objects failed")
    assert (failed.sync_state, failed.live_sha) == (SyncState.OUT_OF_SYNC, LIVE)
    assert failed.conditions[0].type == "SyncFailed"
