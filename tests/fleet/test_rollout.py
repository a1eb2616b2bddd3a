"""The staged rollout decision, row by row (see gitward.fleet.rollout's table)."""

from __future__ import annotations

import pytest

from gitward.fleet.rollout import Member, decide, stage_of
from gitward.model import Health, HealthStatus
from gitward.model.fleet import ClusterSelector, Rollout, RolloutStage
from gitward.model.history import AppStatus, SyncState

NEW, OLD = "b" * 40, "a" * 40
PLAN = Rollout(
    (
        RolloutStage("canary", ClusterSelector((("stage", "canary"),))),
        RolloutStage("rest", ClusterSelector()),
    ),
    max_unavailable=1,
)


def status(
    sha: str | None, health: HealthStatus = HealthStatus.HEALTHY, message: str = ""
) -> AppStatus:
    return AppStatus(
        app="x",
        sync_state=SyncState.SYNCED if sha else SyncState.UNKNOWN,
        health=Health(health, message),
        live_sha=sha,
    )


HEALTHY_NEW, HEALTHY_OLD = status(NEW), status(OLD)
DEGRADED_NEW = status(NEW, HealthStatus.DEGRADED, "ConfigMap settings: value is bad")
PROGRESSING_NEW = status(NEW, HealthStatus.PROGRESSING)


@pytest.mark.parametrize(
    ("canary", "rest", "taking", "me", "go", "reason"),
    [
        # row 1: already at the commit: always go (self-heal, health refresh)
        (HEALTHY_OLD, (HEALTHY_NEW, HEALTHY_OLD), {}, "r1", True, ""),
        # row 2: the canary went Degraded at this commit: stop, with its message
        (
            DEGRADED_NEW,
            (HEALTHY_OLD, HEALTHY_OLD),
            {},
            "r2",
            False,
            "rollout stopped: stage 'canary' is Degraded at bbbbbbb "
            "(c: ConfigMap settings: value is bad)",
        ),
        # row 3: the canary has not taken it yet, or is not Healthy at it
        (
            HEALTHY_OLD,
            (HEALTHY_OLD, HEALTHY_OLD),
            {},
            "r1",
            False,
            "waiting for stage 'canary' to be Healthy at bbbbbbb (c is at aaaaaaa)",
        ),
        (
            PROGRESSING_NEW,
            (HEALTHY_OLD, HEALTHY_OLD),
            {},
            "r1",
            False,
            "(c is Synced, Progressing)",
        ),
        # the first stage itself never waits for another stage
        (HEALTHY_OLD, (HEALTHY_OLD, HEALTHY_OLD), {}, "c", True, ""),
        # row 4: one of its own stage is taking it and maxUnavailable is 1
        (
            HEALTHY_NEW,
            (PROGRESSING_NEW, HEALTHY_OLD),
            {"r1": NEW},
            "r2",
            False,
            "1 of stage 'rest' taking bbbbbbb (maxUnavailable 1): r1",
        ),
        # a Degraded peer in its own stage holds the stage as well
        (HEALTHY_NEW, (DEGRADED_NEW, HEALTHY_OLD), {"r1": NEW}, "r2", False, "maxUnavailable 1"),
        # row 5: the peer finished: go
        (HEALTHY_NEW, (HEALTHY_NEW, HEALTHY_OLD), {"r1": NEW}, "r2", True, ""),
        # a peer let go with an older commit is not taking this one
        (HEALTHY_NEW, (HEALTHY_OLD, HEALTHY_OLD), {"r1": OLD}, "r2", True, ""),
    ],
)
def test_the_rollout_decision(  # noqa: PLR0917
    canary: AppStatus,
    rest: tuple[AppStatus, AppStatus],
    taking: dict[str, str],
    me: str,
    go: bool,
    reason: str,
) -> None:
    members = [Member("c", 0, canary), Member("r1", 1, rest[0]), Member("r2", 1, rest[1])]
    verdict = decide(PLAN, members, me, NEW, taking)
    assert verdict.go is go
    assert reason in verdict.reason
    assert verdict.stopped is reason.startswith("rollout stopped")


def test_two_slots_let_two_of_a_stage_take_it_together() -> None:
    wide = Rollout(PLAN.stages, max_unavailable=2)
    members = [
        Member("c", 0, HEALTHY_NEW),
        Member("r1", 1, PROGRESSING_NEW),
        Member("r2", 1, HEALTHY_OLD),
        Member("r3", 1, HEALTHY_OLD),
    ]
    taking = {"r1": NEW}
    assert decide(wide, members, "r2", NEW, taking).go
    taking["r2"] = NEW
    assert not decide(wide, members, "r3", NEW, taking).go


def test_clusters_in_no_stage_come_after_the_last() -> None:
    only_canary = Rollout((PLAN.stages[0],))
    assert stage_of(only_canary, {"stage": "canary"}) == 0
    assert stage_of(only_canary, {"env": "prod"}) == 1
    assert stage_of(PLAN, {}) == 1
