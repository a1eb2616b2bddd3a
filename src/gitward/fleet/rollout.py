"""Staged rollout across clusters, as a pure decision: may this instance take a commit?

Before: the reconcile step has resolved the commit Git wants for one app instance
(:mod:`gitward.reconcile.step` asks through its ``hold`` hook, after resolve). After: an
empty answer lets the step go on; a reason makes it wait (and look again in a few
seconds), shown on the instance and in the app's rollout status.

Each instance belongs to the first stage whose ``clusterSelector`` matches its
cluster; instances no stage matches come after the last stage. The rules, first match
wins:

=====  ==========================================================  ===================
 row    when                                                        then
=====  ==========================================================  ===================
  1     the instance already runs this commit                       go (heal, refresh)
  2     an earlier stage has an instance Degraded at this commit    stop, with the reason
  3     an earlier stage is not all Synced and Healthy at it        wait for that stage
  4     ``maxUnavailable`` peers of its stage are taking it now     wait for a slot
  5     otherwise                                                   go (the caller records
                                                                    the instance as taking it)
=====  ==========================================================  ===================

A peer "is taking" the commit from the moment it was let go until it is Synced and
Healthy at it; a Degraded peer never stops taking it, so a stage with
``maxUnavailable`` Degraded instances holds the rest of its own stage too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gitward.model import HealthStatus
from gitward.model.fleet import Rollout
from gitward.model.history import AppStatus, SyncState


@dataclass(frozen=True)
class Member:
    """One instance of the app, where it stands."""

    instance: str
    stage: int  # index into the rollout's stages; len(stages) for "after the last"
    status: AppStatus


@dataclass(frozen=True)
class Verdict:
    go: bool
    reason: str = ""
    stopped: bool = False  # a Degraded stage stopped the rollout (not merely waiting)


def stage_of(rollout: Rollout, labels: Mapping[str, str]) -> int:
    for index, stage in enumerate(rollout.stages):
        if stage.selector.matches(labels):
            return index
    return len(rollout.stages)


def stage_name(rollout: Rollout, index: int) -> str:
    return rollout.stages[index].name if index < len(rollout.stages) else "(after the stages)"


def done(status: AppStatus, sha: str) -> bool:
    """Synced and Healthy at ``sha``: this instance has finished taking it."""
    return (
        status.live_sha == sha
        and status.sync_state is SyncState.SYNCED
        and status.health.status is HealthStatus.HEALTHY
    )


def degraded(status: AppStatus, sha: str) -> bool:
    return status.live_sha == sha and status.health.status is HealthStatus.DEGRADED


def decide(
    rollout: Rollout,
    members: Sequence[Member],
    instance: str,
    sha: str,
    taking: Mapping[str, str],
) -> Verdict:
    """May ``instance`` take commit ``sha`` now? ``taking``: instance -> the commit it
    was let go with (see the table in the module docstring)."""
    me = next(m for m in members if m.instance == instance)
    short = sha[:7]
    if me.status.live_sha == sha:  # row 1
        return Verdict(True)
    for member in sorted(members, key=lambda m: (m.stage, m.instance)):
        if member.stage >= me.stage:
            break
        stage = stage_name(rollout, member.stage)
        if degraded(member.status, sha):  # row 2
            why = member.status.health.message or "Degraded"
            reason = (
                f"rollout stopped: stage {stage!r} is Degraded at {short} "
                f"({member.instance}: {why})"
            )
            return Verdict(False, reason, stopped=True)
        if not done(member.status, sha):  # row 3
            state = _state(member.status, sha)
            reason = (
                f"rollout: waiting for stage {stage!r} to be Healthy at {short} "
                f"({member.instance} is {state})"
            )
            return Verdict(False, reason)
    busy = [
        m.instance
        for m in members
        if m.stage == me.stage
        and m.instance != instance
        and taking.get(m.instance) == sha
        and not done(m.status, sha)
    ]
    if len(busy) >= rollout.max_unavailable:  # row 4
        reason = (
            f"rollout: {len(busy)} of stage {stage_name(rollout, me.stage)!r} taking {short} "
            f"(maxUnavailable {rollout.max_unavailable}): {', '.join(sorted(busy))}"
        )
        return Verdict(False, reason)
    return Verdict(True)  # row 5


def _state(status: AppStatus, sha: str) -> str:
    if status.live_sha != sha:
        return f"at {status.live_sha[:7]}" if status.live_sha else "not deployed yet"
    return f"{status.sync_state.value}, {status.health.status.value}"
