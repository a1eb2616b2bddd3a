"""One reconcile of one app: learn only what the decision needs, decide, act, and say
when to come back.

Before: the work queue (:mod:`.queue`) hands an :class:`Item` to a worker of the
controller (:mod:`.controller`). After: the worker queues the app again as the returned
:class:`~gitward.reconcile.decide.Requeue` says.

The step asks :func:`~gitward.reconcile.decide.decide` after each thing it learns, so a
suspended app costs nothing, a poll that finds the same commit costs one Git request,
and only a look that finds a difference can lead to a write. Its I/O is the engine's:
``Engine.resolve``, ``Engine.look`` and ``Engine.write`` (see
:mod:`gitward.reconcile.pipeline`); a sync is exactly ``Engine.sync`` split at the
decision.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass

from gitward.apply.inventory import Inventory
from gitward.errors import GitwardError, NotOwnerError, PolicyError, UnreachableError
from gitward.logs import current_revision
from gitward.model import (
    AppSpec,
    GroupKind,
    Health,
    HealthStatus,
    ResourceKey,
    Revision,
    worst,
)
from gitward.model.events import EventKind, SyncEvent
from gitward.model.history import SYSTEM_ACTOR, AppStatus, ObjectAction, SyncState
from gitward.model.history import SyncResult as RecordResult
from gitward.model.policy import Verdict
from gitward.ports import HistoryStore
from gitward.reconcile import decide as d
from gitward.reconcile.children import owner_of
from gitward.reconcile.decide import Decision, Do, Facts, Failure, Memory, PlanSummary
from gitward.reconcile.metrics import Metrics
from gitward.reconcile.pipeline import Engine, Look, SyncResult
from gitward.reconcile.queue import Item
from gitward.reconcile.runoptions import after_narrowed, look_options, write_options

log = logging.getLogger("gitward.controller")


@dataclass(frozen=True)
class StepSettings:
    poll_interval: float = 180.0
    jitter: float = 0.1  # fraction of the poll interval
    dependency_recheck: float = 5.0
    sync_timeout: float = 300.0


PARENT_ONLY = Health(HealthStatus.HEALTHY, "deploys only child applications (app-of-apps)")


@dataclass
class Round:
    """One reconcile in progress: what it is about, and what it has learnt so far."""

    item: Item
    spec: AppSpec
    connect: Callable[[], Engine]  # first used inside the step's error handling
    facts: Facts
    wanted: AppSpec
    revision: Revision | None = None
    look: Look | None = None
    result: SyncResult | None = None
    record_id: int | None = None

    @functools.cached_property
    def engine(self) -> Engine:
        """The app's cluster; one that is not declared fails this app's step, not serve."""
        return self.connect()

    def learn(self, **changes: object) -> None:
        self.facts = dataclasses.replace(self.facts, **changes)  # type: ignore[arg-type]

    def looked(self) -> Look:
        if self.look is None:
            raise RuntimeError(f"{self.spec.name}: a sync or a record needs a look first")
        return self.look


class Reconciler:
    """The reconcile step. It shares the controller's dictionaries (apps, status,
    memory, the desired objects per app) and owns no task of its own."""

    def __init__(
        self,
        engine_for: Callable[[AppSpec], Engine],
        store: HistoryStore,
        *,
        settings: StepSettings,
        rng: random.Random,
        metrics: Metrics,
        track: Callable[[AppSpec, set[GroupKind]], Awaitable[None]] | None,
        listener: Callable[[SyncEvent], None] | None = None,
        fence: Callable[[str], AbstractAsyncContextManager[int]] | None = None,
        hold: Callable[[AppSpec, str], str] | None = None,
    ) -> None:
        self.engine_for = engine_for
        self.fence = fence  # serve --ha: proves this replica still owns the app (docs/ha.md)
        # Asked once the commit is known: why this app must not take it yet ("" if it
        # may). A staged rollout across clusters holds later stages (gitward.fleet).
        self.hold = hold
        self.listener = listener  # notifications: returns at once (it only enqueues)
        self.store = store
        self.settings = settings
        self.rng = rng
        self.metrics = metrics
        self.track = track
        self.apps: dict[str, AppSpec] = {}
        self.status: dict[str, AppStatus] = {}
        self.memory: dict[str, Memory] = {}
        self.desired: dict[str, frozenset[ResourceKey]] = {}  # per app, as last looked
        # per app and object: the hash of the fields gitward owns, as last recorded
        self.owned_fields: dict[str, dict[ResourceKey, str]] = {}
        self.refused_at: dict[str, str] = {}  # per app: the commit last refused by policy
        # app-of-apps (serve): whether an app's last render held child apps or sets
        self.is_parent: Callable[[str], bool] = lambda _: False

    async def step(self, item: Item) -> d.Requeue | None:
        """One reconcile of ``item.app``; returns when to run it again (None: on demand)."""
        r = self._round(item)  # the app, its status and memory; no I/O
        decision = self._decide(r)  # suspended, waiting for a dependency, or resolve
        try:
            if decision.do is Do.RESOLVE:
                await self._resolve(r)  # the commit: pinned, branch head, or the live one
                self._held(r)  # a staged rollout may hold this commit back: wait
                decision = self._decide(r)  # nothing moved since the last look?
            if decision.do is Do.LOOK:
                await self._look(r)  # Engine.look: render ... plan; nothing written
                decision = self._decide(r)  # in sync, drift to record, or sync
            if decision.do is Do.SYNC:
                async with self._fenced(r.spec.name):  # HA: still this replica's app?
                    await self._sync(r, decision)  # Engine.write: apply, record, health
                decision = self._decide(r)  # synced, or failed: back off or report
        except NotOwnerError as e:  # HA: nothing written; another replica has the app
            log.info("not syncing %s: %s", r.spec.name, e.message)
            return (
                None
                if e.retry_after is None
                else d.Requeue(e.retry_after, r.item.trigger, r.item.actor)
            )
        except GitwardError as e:
            unreachable = isinstance(e, UnreachableError)  # its apps are Unknown, not stale
            failure = Failure(str(e), e.transient, sync=r.record_id is not None)
            r.learn(failure=dataclasses.replace(failure, unreachable=unreachable))
            decision = self._decide(r)  # transient: back off; permanent: report once
        await self._record(r, decision)  # the status transition, and what to remember
        return after_narrowed(decision.requeue, r.facts.synced, r.item.request)

    def _fenced(self, app: str) -> AbstractAsyncContextManager[int | None]:
        return nullcontext() if self.fence is None else self.fence(app)

    # ------------------------------------------------------------------ learning

    def _round(self, item: Item) -> Round:
        spec = self.apps[item.app]
        status = self.status[item.app]
        memory = self.memory.get(item.app, Memory())
        facts = Facts(
            trigger=item.trigger,
            policy=spec.sync_policy,
            status=status,
            suspended=spec.suspend or status.suspended,
            waiting_for=d.waiting_for(spec.depends_on, self.apps, self.status),
            dirty=memory.dirty,
            interrupted=memory.interrupted,
            failures=memory.failures,
            failed_at=memory.failed_at,
        )
        return Round(item, spec, lambda: self.engine_for(spec), facts, d.wanted(spec, status))

    def _decide(self, r: Round) -> Decision:
        interval = self.settings.poll_interval
        jitter = interval * self.settings.jitter * (self.rng.random() * 2 - 1)
        timing = d.Timing(max(1.0, interval + jitter), self.settings.dependency_recheck)
        return d.decide(r.facts, timing, r.item.actor)

    async def _resolve(self, r: Round) -> None:
        status = await self._release_if_moved(r.spec, r.facts.status, r.engine)
        r.wanted = d.wanted(r.spec, status)
        known = d.known_revision(r.wanted, status, r.item.trigger)
        r.revision = known or await r.engine.resolve(r.wanted)
        current_revision.set(r.revision.sha)
        r.learn(status=status, revision=r.revision.sha)

    def _held(self, r: Round) -> None:
        if self.hold is not None and r.revision is not None:
            r.learn(waiting_for=self.hold(r.spec, r.revision.sha))

    async def _look(self, r: Round) -> None:
        options = look_options(r.spec, r.item.request)  # the policy's, or a person's
        try:
            r.look = await r.engine.look(r.wanted, options, revision=r.revision)
        except PolicyError as e:
            self._count_violations(r.spec.name, e.verdict)
            if r.spec.sync_policy.automated or r.item.trigger.asks_sync:
                await self._refused(r, e)  # a sync was due: history says why none ran
            raise
        self._count_violations(r.spec.name, r.look.verdict)
        self.desired[r.spec.name] = frozenset(r.look.prepared)
        self._remember_owned(r.spec.name, r.look.inventory)
        if self.track is not None:
            await self.track(r.spec, {k.group_kind for k in r.look.prepared})
        differing = tuple(str(k) for k in r.look.differing())
        r.learn(plan=PlanSummary(not differing, differing))

    async def _refused(self, r: Round, error: PolicyError) -> None:
        """A sync refused by policy, recorded as a failed sync that wrote nothing. A denial
        is permanent, so this happens once per commit (or per person who asks again)."""
        if r.revision is None:  # never: a look always follows a resolve
            return
        asked = r.item.trigger.asks_sync  # a person asking again gets a record again
        if self.refused_at.get(r.spec.name) == r.revision.sha and not asked:
            return  # already recorded for this commit (another trigger, same verdict)
        self.refused_at[r.spec.name] = r.revision.sha
        record_id = await self.store.start_sync(
            r.spec.name,
            repo_url=r.revision.repo_url,
            requested=r.wanted.source.target_revision,
            sha=r.revision.sha,
            trigger=r.item.trigger.recorded(r.spec.sync_policy.self_heal),
            actor=r.item.actor,
        )
        message = f"refused by policy, nothing applied: {error.message}"
        await self.store.finish_sync(record_id, RecordResult.FAILED, message=message[:2000])

    def _count_violations(self, app: str, verdict: Verdict) -> None:
        for v in verdict.violations:
            self.metrics.policy_violations.labels(app, v.mode.value, v.policy).inc()

    async def _sync(self, r: Round, decision: Decision) -> None:
        look, name, trigger = r.looked(), r.spec.name, r.item.trigger
        r.record_id = await self.store.start_sync(
            name,
            repo_url=look.revision.repo_url,
            requested=r.wanted.source.target_revision,
            sha=look.revision.sha,
            trigger=decision.record_as or trigger.recorded(r.spec.sync_policy.self_heal),
            actor=r.item.actor,
            request=r.item.request,
        )
        options = write_options(r.spec, trigger, r.item.request, self.settings.sync_timeout)
        log.info("syncing %s (%s: %s)", name, trigger.value, decision.reason)
        self._emit(r, EventKind.STARTED, look.revision)
        try:
            with self.metrics.sync_seconds.labels(name).time():
                r.result = await r.engine.write(r.wanted, options, look)
        except Exception as e:  # a bug too: the history row must not stay Running
            message = d.cause(e)
            await self.store.finish_sync(r.record_id, RecordResult.FAILED, message=message)
            self.metrics.syncs.labels(name, trigger.value, "failed").inc()
            self._emit(r, EventKind.FAILED, look.revision, message)
            raise
        if r.result.inventory is not None:
            self._remember_owned(name, r.result.inventory)
        message = _summary(r.result)
        outcome = RecordResult.FAILED if r.result.failed else RecordResult.SUCCEEDED
        actions = tuple(ObjectAction.from_change(c) for c in r.result.changes.changes)
        await self.store.finish_sync(r.record_id, outcome, message=message, actions=actions)
        self.metrics.syncs.labels(name, trigger.value, outcome.value.lower()).inc()
        if r.result.failed:
            r.learn(failure=Failure(message, transient=False, sync=True))
        else:
            r.learn(synced=True)

    def _remember_owned(self, app: str, inventory: Inventory) -> None:
        """What drift is judged against (see :func:`.drift.drifted`)."""
        self.owned_fields[app] = {k: e.fields_hash for k, e in inventory.entries.items()}

    # ------------------------------------------------------------------ recording

    async def _record(self, r: Round, decision: Decision) -> None:
        """Write the status the decision leads to, and remember what the next round needs."""
        name = r.spec.name
        memory = self.memory.get(name, Memory())
        self.memory[name] = d.remember(memory, decision, r.facts.revision)
        status = self._next_status(r, decision)
        if status is not None:
            await self._save(status)
        self._notify(r, decision)

    def _notify(self, r: Round, decision: Decision) -> None:
        """A finished sync, or drift seen for the first time, goes to the listener."""
        if r.result is not None and r.record_id is not None:
            health = self._overall(r, r.result.health.values()).status
            kind = EventKind.FAILED if r.result.failed else EventKind.SUCCEEDED
            if kind is EventKind.SUCCEEDED and health is HealthStatus.DEGRADED:
                kind = EventKind.DEGRADED
            self._emit(r, kind, r.result.revision, _summary(r.result), health.value)
        elif (
            decision.do is Do.RECORD_DRIFT
            and r.facts.status.sync_state is not SyncState.OUT_OF_SYNC
            and r.facts.plan is not None
        ):
            differing = ", ".join(r.facts.plan.differing)
            self._emit(r, EventKind.DRIFT, r.looked().revision, f"differs: {differing}")

    def _emit(
        self, r: Round, kind: EventKind, revision: Revision, message: str = "", health: str = ""
    ) -> None:
        if self.listener is None:
            return
        event = SyncEvent(
            r.spec.name, kind, revision.repo_url, revision.sha, message[:500], health, r.record_id
        )
        try:
            self.listener(event)
        except Exception:  # a listener's fault never touches a sync
            log.exception("the notification listener failed for %s", r.spec.name)

    def _next_status(self, r: Round, decision: Decision) -> AppStatus | None:
        status, failure = r.facts.status, r.facts.failure
        if decision.do is Do.SUSPENDED:
            return d.suspended(status)
        if decision.do is Do.WAIT:
            return d.waiting(status, decision.reason)
        if r.result is not None and r.record_id is not None:
            health = self._overall(r, r.result.health.values())
            message = failure.message if failure is not None else None
            return d.sync_finished(status, r.result.revision, health, r.record_id, message)
        if failure is not None:  # an unreachable cluster: Unknown, not the stale state
            show = d.unreachable if failure.unreachable else d.errored
            return show(status, failure.message)
        if decision.do in (Do.RECORD_IN_SYNC, Do.RECORD_DRIFT) and r.facts.plan is not None:
            look = r.looked()
            health = self._overall(r, r.engine.live_health(r.wanted, look).values())
            return d.observed(status, look.revision, health, r.facts.plan)
        return None  # NOTHING: the status already says it all

    def _overall(self, r: Round, healths: Iterable[Health]) -> Health:
        """The app's health: its objects' worst; an app-of-apps parent that deploys no
        object of its own is Healthy (its children report their own health)."""
        found = list(healths)
        owner = owner_of(r.spec.name)
        if not found and (
            self.is_parent(r.spec.name) or any(a.owner == owner for a in self.apps.values())
        ):
            return PARENT_ONLY
        return worst(found)

    async def _save(self, status: AppStatus) -> None:
        """Record an observed status. Pins and suspension are changed by people through
        the store directly, possibly while this reconcile ran or while this write is in
        flight: the newest values in memory always win over the reconcile's copy."""
        stored = await self.store.put_status(status)  # it sets updated_at; never pins
        latest = self.status.get(status.app) or status
        self.status[status.app] = dataclasses.replace(
            status,
            pin=latest.pin,
            suspended=latest.suspended,
            updated_at=stored.updated_at,
            last_sync_id=stored.last_sync_id
            if stored.last_sync_id is not None
            else status.last_sync_id,
        )

    async def _release_if_moved(
        self, spec: AppSpec, status: AppStatus, engine: Engine
    ) -> AppStatus:
        """Release a pin made "until a new commit" once the branch has moved past it."""
        pin = status.pin
        if pin is None or not pin.release_after:
            return status
        head = await engine.resolve(spec)
        if head.sha == pin.release_after:
            return status
        await self.store.unpin(spec.name)
        reason = f"{spec.source.target_revision} moved to {head.sha}"
        details = {"pin": pin.sha, "reason": reason}
        await self.store.audit(SYSTEM_ACTOR, "unpin", spec.name, app=spec.name, details=details)
        log.info("released the rollback pin of %s: %s", spec.name, reason)
        released = dataclasses.replace(status, pin=None)
        self.status[spec.name] = released
        return released


def _summary(result: SyncResult) -> str:
    changes = result.changes.changes
    failures = [c for c in changes if c.outcome.value in ("failed", "hook failed")]
    if not result.failed:
        warned = f"; {result.verdict.summary()}" if result.verdict.warnings else ""
        return f"synced {len(changes)} objects{warned}"[:2000]
    listed = "; ".join(f"{c.key}: {c.message}" for c in failures[:5])
    return f"{len(failures)} of {len(changes)} objects failed: {listed}"[:2000]
