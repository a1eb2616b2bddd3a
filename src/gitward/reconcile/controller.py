"""The controller: keeps every application as Git says, continuously.

Apps are reconciled from a work queue (:mod:`.queue`) fed by four triggers: a poll timer
per app (with jitter), Git push webhooks, watch events on managed objects, and people
(sync, refresh, rollback). One reconcile is one short, resumable step:

1. skip suspended apps; wait (with the reason shown) for ``dependsOn`` apps to be synced
   and healthy;
2. render and plan at the wanted revision — the pinned one after a rollback;
3. in sync: record Synced and the live health;
4. out of sync: sync if the app is automated (self-heal for drift from watch events)
   or a person asked; otherwise record OutOfSync;
5. persist status and history; on failure, come back after an exponential backoff.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from gitward.errors import GitwardError
from gitward.logs import current_app, current_revision
from gitward.model import (
    Action,
    AppSpec,
    GroupKind,
    Health,
    HealthStatus,
    JsonObject,
    ResourceKey,
    Revision,
    worst,
)
from gitward.model.annotations import APP_LABEL
from gitward.model.history import (
    SYSTEM_ACTOR,
    AppStatus,
    Condition,
    ObjectAction,
    SyncState,
    SyncTrigger,
)
from gitward.model.history import SyncResult as RecordResult
from gitward.ports import Clock, HistoryStore
from gitward.reconcile.metrics import Metrics
from gitward.reconcile.pipeline import Engine, Planned, SyncOptions, SyncResult
from gitward.reconcile.queue import Item, WorkQueue

log = logging.getLogger("gitward.controller")

_TRIGGERS = {t.value: t for t in SyncTrigger} | {"health": SyncTrigger.WATCH}
_ASKED = ("manual", "rollback")  # a person asked for a sync: run it even without automation


@dataclass(frozen=True)
class ControllerSettings:
    poll_interval: float = 180.0
    jitter: float = 0.1  # fraction of the poll interval
    workers: int = 4
    selfheal_debounce: float = 0.2
    watch_debounce: float = 0.1
    dependency_recheck: float = 5.0
    sync_timeout: float = 300.0


class Controller:
    def __init__(
        self,
        engine_for: Callable[[AppSpec], Engine],
        store: HistoryStore,
        clock: Clock,
        settings: ControllerSettings | None = None,
        rng: random.Random | None = None,
        *,
        metrics: Metrics | None = None,
        track: Callable[[AppSpec, set[GroupKind]], Awaitable[None]] | None = None,
    ) -> None:
        self.engine_for = engine_for
        self.store = store
        self.clock = clock
        self.settings = settings or ControllerSettings()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.queue = WorkQueue(clock)
        self.apps: dict[str, AppSpec] = {}
        self.status: dict[str, AppStatus] = {}
        self._failures: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._dirty: set[str] = set()  # apps whose objects changed since their last reconcile
        self._desired: dict[str, frozenset[ResourceKey]] = {}  # per app, as last planned
        self.reconciles = 0
        self.metrics = metrics or Metrics()
        self.track = track

    # ------------------------------------------------------------------ declarations

    async def set_apps(
        self,
        apps: Mapping[str, AppSpec],
        uninstall: Callable[[AppSpec], Awaitable[None]] | None = None,
    ) -> None:
        """Adopt a new set of declared apps: new ones are queued, removed ones forgotten
        (and their objects deleted by ``uninstall`` when their policy prunes)."""
        for name in list(self.apps):
            if name not in apps:
                removed = self.apps.pop(name)
                self.queue.forget(name)
                if uninstall is not None:
                    try:
                        await uninstall(removed)
                    except GitwardError as e:
                        log.error("removing the objects of %s failed: %s", name, e)  # noqa: TRY400
                await self.store.delete_status(name)
                self.status.pop(name, None)
        for name, spec in apps.items():
            changed = self.apps.get(name) != spec
            self.apps[name] = spec
            if name not in self.status:
                self.status[name] = await self.store.get_status(name) or AppStatus(app=name)
            if changed:
                self.queue.add(name, "refresh")

    # ------------------------------------------------------------------ triggers

    def trigger(self, app: str, trigger: str = "manual", actor: str = "gitward") -> None:
        if app not in self.apps:
            raise KeyError(app)
        self.queue.add(app, trigger, actor)

    def apps_for_push(
        self, repo_urls: frozenset[str], normalize: Callable[[str], str]
    ) -> list[str]:
        """Apps whose source repository is the one pushed to."""
        wanted = {normalize(u) for u in repo_urls}
        return sorted(n for n, a in self.apps.items() if normalize(a.source.repo_url) in wanted)

    def on_live_event(self, kind: str, obj: JsonObject) -> None:
        """A managed object changed in the cluster: look again soon (self-heal: re-apply).

        Changes gitward made itself, and status updates by controllers, are not drift.
        """
        labels = (obj.get("metadata") or {}).get("labels") or {}
        app = labels.get(APP_LABEL)
        if app not in self.apps:
            return
        desired = self._desired.get(app)
        if desired is not None and ResourceKey.of(obj) not in desired:
            return  # not (or no longer) part of the app, e.g. an object being pruned
        if kind != "DELETED" and not _foreign_write(obj):
            # Not drift, but health may have moved (a rollout progressed): look again
            # while the app is not settled.
            status = self.status.get(app)
            if status is None or status.health.status is not HealthStatus.HEALTHY:
                self.queue.add(app, "health", delay=self.settings.watch_debounce)
            return
        spec = self.apps[app]
        self._dirty.add(app)
        self.metrics.drift.labels(app).inc()
        if spec.sync_policy.automated and spec.sync_policy.self_heal:
            self.queue.add(app, "selfheal", delay=self.settings.selfheal_debounce)
        else:
            self.queue.add(app, "watch", delay=self.settings.watch_debounce)

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        for interrupted in await self.store.mark_interrupted():
            log.warning(
                "sync %s of %s was interrupted; it will be retried", interrupted.id, interrupted.app
            )
            if interrupted.app in self.apps:
                self.queue.add(interrupted.app, "refresh")
        self._tasks.append(asyncio.create_task(self.queue.run_timer(), name="queue-timer"))
        for i in range(self.settings.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"worker-{i}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                await self.reconcile(item)
            except Exception:  # a bug must not kill the worker; it is logged with the app
                log.exception("reconcile of %s failed unexpectedly", item.app)
                self.queue.add(item.app, "poll", delay=self._backoff(item.app))
            finally:
                self.queue.done(item.app)

    def _next_poll(self, app: str) -> None:
        interval = self.settings.poll_interval
        jitter = interval * self.settings.jitter * (self.rng.random() * 2 - 1)
        self.queue.add(app, "poll", delay=max(1.0, interval + jitter))

    def _backoff(self, app: str) -> float:
        failures = self._failures[app] = self._failures.get(app, 0) + 1
        retry = self.apps[app].sync_policy.retry if app in self.apps else None
        base = retry.backoff_seconds if retry else 5.0
        factor = retry.factor if retry else 2.0
        ceiling = retry.max_backoff_seconds if retry else 180.0
        return float(min(ceiling, base * factor ** (failures - 1)))

    # ------------------------------------------------------------------ one reconcile

    async def reconcile(self, item: Item) -> None:
        spec = self.apps.get(item.app)
        if spec is None:
            return
        self.reconciles += 1
        current_app.set(item.app)
        current_revision.set("")
        with self.metrics.reconcile_seconds.labels(item.app).time():
            await self._reconcile_guarded(spec, item)

    async def _reconcile_guarded(self, spec: AppSpec, item: Item) -> None:
        status = self.status[item.app]
        if spec.suspend or status.suspended:
            await self._save(
                dataclasses.replace(
                    status,
                    conditions=(Condition("Suspended", "True", "reconciliation is suspended"),),
                )
            )
            return
        waiting = self._waiting_for(spec)
        if waiting:
            await self._save(
                dataclasses.replace(
                    status, conditions=(Condition("WaitingForDependency", "True", waiting),)
                )
            )
            self.queue.add(
                item.app, item.trigger, item.actor, delay=self.settings.dependency_recheck
            )
            return
        try:
            await self._reconcile(spec, status, item)
        except GitwardError as e:
            await self._save(
                dataclasses.replace(
                    self.status[item.app],
                    sync_state=SyncState.UNKNOWN
                    if status.sync_state is SyncState.UNKNOWN
                    else status.sync_state,
                    conditions=(Condition("ReconcileError", "True", str(e)),),
                )
            )
            self.queue.add(item.app, "poll", delay=self._backoff(item.app))
            return
        if self._failures.get(item.app) and not self._last_failed(item.app):
            self._failures.pop(item.app, None)
        self._next_poll(item.app)

    def _last_failed(self, app: str) -> bool:
        return any(c.type == "SyncFailed" for c in self.status[app].conditions)

    def wanted(self, spec: AppSpec, status: AppStatus) -> AppSpec:
        if status.pin is None:
            return spec
        return dataclasses.replace(
            spec, source=dataclasses.replace(spec.source, target_revision=status.pin.sha)
        )

    async def _reconcile(self, spec: AppSpec, status: AppStatus, item: Item) -> None:
        engine = self.engine_for(spec)
        status = await self._release_if_moved(spec, status, engine)
        wanted = self.wanted(spec, status)
        dirty = item.app in self._dirty
        self._dirty.discard(item.app)
        rendered = await engine.render(wanted)
        current_revision.set(rendered.revision.sha)
        if (
            item.trigger == "poll"
            and not dirty
            and status.sync_state is SyncState.SYNCED
            and status.live_sha == rendered.revision.sha
        ):
            return  # nothing moved in Git or in the cluster since the last look
        # Plan with the force the sync would use: a field taken by hand is then one
        # dry-run, not a conflict followed by a forced retry.
        planned = await engine.plan(
            wanted, SyncOptions(force_conflicts=spec.sync_policy.automated), rendered
        )
        self._desired[spec.name] = frozenset(planned.prepared)
        if self.track is not None:
            await self.track(spec, {k.group_kind for k in planned.prepared})
        steps = [s for s in planned.plan.steps if s.action not in (Action.HOOK,)]
        in_sync = all(s.action in (Action.UNCHANGED, Action.KEEP) for s in steps)
        if in_sync and item.trigger not in _ASKED:
            health = worst(list(engine.live_health(wanted, planned).values()))
            await self._save(
                self._observed(
                    status,
                    rendered.revision,
                    SyncState.SYNCED,
                    health,
                    live_sha=rendered.revision.sha,
                )
            )
            return
        automated = spec.sync_policy.automated
        drift = item.trigger in ("watch", "selfheal", "health")
        if item.trigger in _ASKED or (automated and (not drift or spec.sync_policy.self_heal)):
            await self._sync(spec, wanted, engine, planned, item)
            return
        health = worst(list(engine.live_health(wanted, planned).values()))
        changed = ", ".join(
            str(s.key) for s in steps if s.action not in (Action.UNCHANGED, Action.KEEP)
        )[:500]
        await self._save(
            dataclasses.replace(
                self._observed(status, rendered.revision, SyncState.OUT_OF_SYNC, health),
                conditions=(Condition("OutOfSync", "True", f"differs from Git: {changed}"),),
            )
        )

    async def _release_if_moved(
        self, spec: AppSpec, status: AppStatus, engine: Engine
    ) -> AppStatus:
        """Release a pin made "until a new commit" once the branch has moved past it."""
        pin = status.pin
        if pin is None or not pin.release_after:
            return status
        head = await asyncio.to_thread(
            engine.git.resolve,
            spec.source.repo_url,
            spec.source.target_revision,
            engine.credentials(spec.source.repo_url),
        )
        if head.sha == pin.release_after:
            return status
        await self.store.unpin(spec.name)
        await self.store.audit(
            SYSTEM_ACTOR,
            "unpin",
            spec.name,
            app=spec.name,
            details={
                "pin": pin.sha,
                "reason": f"{spec.source.target_revision} moved to {head.sha}",
            },
        )
        log.info(
            "released the rollback pin of %s: %s moved to %s",
            spec.name,
            spec.source.target_revision,
            head.short,
        )
        released = dataclasses.replace(status, pin=None)
        self.status[spec.name] = released
        return released

    def _observed(
        self,
        status: AppStatus,
        revision: Revision,
        state: SyncState,
        health: Health,
        live_sha: str | None = None,
    ) -> AppStatus:
        return dataclasses.replace(
            status,
            sync_state=state,
            health=health,
            wanted=revision,
            live_sha=live_sha if live_sha is not None else status.live_sha,
            conditions=(),
        )

    async def _sync(
        self, spec: AppSpec, wanted: AppSpec, engine: Engine, planned: Planned, item: Item
    ) -> None:
        trigger = _TRIGGERS.get(item.trigger, SyncTrigger.MANUAL)
        if item.trigger in ("watch", "health") and spec.sync_policy.self_heal:
            trigger = SyncTrigger.SELFHEAL  # whatever woke the look, this sync heals drift
        record_id = await self.store.start_sync(
            spec.name,
            repo_url=planned.revision.repo_url,
            requested=wanted.source.target_revision,
            sha=planned.revision.sha,
            trigger=trigger,
            actor=item.actor,
        )
        options = SyncOptions(
            # Git is the source of truth: automated syncs and self-heal take fields back.
            force_conflicts=spec.sync_policy.automated or item.trigger in _ASKED,
            timeout=self.settings.sync_timeout,
            wait=False,
        )
        log.info("syncing %s (%s)", spec.name, item.trigger)
        try:
            with self.metrics.sync_seconds.labels(spec.name).time():
                result = await engine.execute(wanted, options, planned)
        except GitwardError as e:
            await self.store.finish_sync(record_id, RecordResult.FAILED, message=str(e))
            self.metrics.syncs.labels(spec.name, item.trigger, "failed").inc()
            raise
        self.metrics.syncs.labels(
            spec.name, item.trigger, "failed" if result.failed else "succeeded"
        ).inc()
        await self._record(spec.name, record_id, result)

    async def _record(self, app: str, record_id: int, result: SyncResult) -> None:
        failed = result.failed
        actions = tuple(ObjectAction(c.key, c.outcome, c.message) for c in result.changes.changes)
        failures = [a for a in actions if a.outcome.value in ("failed", "hook failed")]
        message = (
            (
                f"{len(failures)} of {len(actions)} objects failed: "
                + "; ".join(f"{a.key}: {a.message}" for a in failures[:5])
            )
            if failed
            else (f"synced {len(actions)} objects")
        )
        await self.store.finish_sync(
            record_id,
            RecordResult.FAILED if failed else RecordResult.SUCCEEDED,
            message=message[:2000],
            actions=actions,
        )
        status = self.status[app]
        health = worst(list(result.health.values()))
        if failed:
            updated = dataclasses.replace(
                status,
                sync_state=SyncState.OUT_OF_SYNC,
                health=health,
                wanted=result.revision,
                last_sync_id=record_id,
                conditions=(Condition("SyncFailed", "True", message),),
            )
            self.queue.add(app, "poll", delay=self._backoff(app))
        else:
            updated = dataclasses.replace(
                status,
                sync_state=SyncState.SYNCED,
                health=health,
                wanted=result.revision,
                live_sha=result.revision.sha,
                last_sync_id=record_id,
                conditions=(),
            )
            self._failures.pop(app, None)
        await self._save(updated)

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

    # ------------------------------------------------------------------ dependencies

    def _waiting_for(self, spec: AppSpec) -> str:
        for name in spec.depends_on:
            dep = self.status.get(name)
            if name not in self.apps or dep is None:
                return f"waiting for {name}: it is not declared"
            if dep.sync_state is not SyncState.SYNCED:
                return f"waiting for {name}: it is {dep.sync_state.value}"
            if dep.health.status is not HealthStatus.HEALTHY:
                return f"waiting for {name}: it is {dep.health.status.value}"
        return ""

    # ------------------------------------------------------------------ people

    async def suspend(self, app: str, suspended: bool, actor: str) -> AppStatus:
        if app not in self.apps:
            raise KeyError(app)
        stored = await self.store.set_suspended(app, suspended)
        status = dataclasses.replace(self.status[app], suspended=stored.suspended)
        self.status[app] = status
        if not suspended:
            self.queue.add(app, "refresh", actor)
        return status


def _foreign_write(obj: JsonObject, own_manager: str = "gitward") -> bool:
    """True if the latest write to ``obj`` may have changed what Git declares.

    ``managedFields`` name who wrote last and when (to the second). Writes by gitward
    itself and writes to the ``status`` subresource are not drift; anything else among
    the latest writes is. Without managedFields we cannot tell, so it counts.
    """
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    if not entries:
        return True
    latest = max(str(e.get("time") or "") for e in entries)
    return any(
        e.get("manager") != own_manager and e.get("subresource") != "status"
        for e in entries
        if str(e.get("time") or "") == latest
    )
