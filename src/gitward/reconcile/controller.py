"""The controller: keeps every application as Git says, continuously.

Apps are reconciled from a work queue (:mod:`.queue`) fed by triggers
(:class:`~gitward.model.history.Trigger`): a poll timer per app (with jitter), Git push
webhooks, watch events on managed objects, and people (sync, refresh, rollback). A
worker takes an app from the queue, runs one step (:mod:`.step`, which asks the pure
:func:`~gitward.reconcile.decide.decide` what to do), and queues the app again when
the step says so. This module holds only the workers and the triggers.
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
from gitward.model import AppSpec, GroupKind, HealthStatus, JsonObject, ResourceKey
from gitward.model.annotations import APP_LABEL
from gitward.model.events import SyncEvent
from gitward.model.history import AppStatus, Pin, Trigger
from gitward.model.syncrequest import SyncRequest
from gitward.ports import Clock, HistoryStore, Shard
from gitward.reconcile.decide import DEFAULT_RETRY, Memory, Requeue, backoff, cause, errored
from gitward.reconcile.drift import drifted
from gitward.reconcile.metrics import Metrics
from gitward.reconcile.pipeline import Engine
from gitward.reconcile.queue import Item, WorkQueue
from gitward.reconcile.step import Reconciler, StepSettings

log = logging.getLogger("gitward.controller")


@dataclass(frozen=True)
class ControllerSettings:
    poll_interval: float = 180.0
    jitter: float = 0.1  # fraction of the poll interval
    workers: int = 4
    selfheal_debounce: float = 0.2  # a drift event to the self-heal look
    watch_debounce: float = 0.1  # a drift event without self-heal, or a health refresh
    dependency_recheck: float = 5.0
    sync_timeout: float = 300.0
    field_manager: str = "gitward"  # whose writes are gitward's own, not drift

    def step(self) -> StepSettings:
        return StepSettings(
            self.poll_interval, self.jitter, self.dependency_recheck, self.sync_timeout
        )


class Controller:
    """Workers and triggers around :class:`~gitward.reconcile.step.Reconciler`; also the
    :class:`~gitward.ports.AppsView` the HTTP API reads."""

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
        listener: Callable[[SyncEvent], None] | None = None,
        shard: Shard | None = None,
        hold: Callable[[AppSpec, str], str] | None = None,
    ) -> None:
        self.engine_for = engine_for
        self.shard = shard  # serve --ha: only this replica's apps are reconciled here
        self.store = store
        self.clock = clock
        self.settings = settings or ControllerSettings()
        self.metrics = metrics or Metrics()
        rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.steps = Reconciler(
            engine_for,
            store,
            settings=self.settings.step(),
            rng=rng,
            metrics=self.metrics,
            track=track,
            listener=None if listener is None else _stamped(listener, clock),
            fence=None if shard is None else shard.fence,
            hold=hold,
        )
        self.apps = self.steps.apps
        self.status = self.steps.status
        self.queue = WorkQueue(clock)
        self.reconciles = 0
        self._declaring = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._retiring: set[asyncio.Task[None]] = set()  # removals waiting for a run

    # ------------------------------------------------------------------ declarations

    async def set_apps(
        self,
        apps: Mapping[str, AppSpec],
        uninstall: Callable[[AppSpec], Awaitable[None]] | None = None,
    ) -> None:
        """Adopt a new set of declared apps: new and changed ones are queued, removed ones
        forgotten (and their objects deleted by ``uninstall`` when their policy prunes).

        An app becomes known (to triggers, workers and the API) only together with its
        status: the statuses of new apps are read first, then every app is published in
        one turn of the loop, with no await in between. A trigger for an app still being
        read finds it undeclared, never half there. Declarations are adopted one at a
        time (reloads from a poll, a webhook and app-of-apps may overlap)."""
        async with self._declaring:
            for name in list(self.apps):
                if name not in apps:
                    await self._remove(name, uninstall)
            loaded = await self._stored_status([n for n in apps if n not in self.apps])
            for name, spec in apps.items():  # no await from here on
                if name in loaded:
                    self.status[name] = loaded[name]
                changed = self.apps.get(name) != spec
                self.apps[name] = spec
                if changed:
                    self.queue.add(name, Trigger.REFRESH)

    async def _stored_status(self, names: list[str]) -> dict[str, AppStatus]:
        """The stored status of each of ``names`` (a blank one if none): one read of the
        store, not one per app (a fleet adopts a thousand apps at start)."""
        if not names:
            return {}
        stored = {s.app: s for s in await self.store.list_status()}
        return {name: stored.get(name) or AppStatus(app=name) for name in names}

    async def _remove(
        self, name: str, uninstall: Callable[[AppSpec], Awaitable[None]] | None
    ) -> None:
        """Forget ``name`` and delete its objects, once no worker reconciles it.

        A removal can land while the app's sync is in flight (an app removed just after
        it was declared): its objects are being applied and entered in its inventory,
        and an uninstall now would read an inventory that does not hold them yet and
        leave them behind. So the removal waits for that run to end, in the background
        (a run applying many objects, or waiting for health, can take long), and later
        declarations are not held up. An app declared again meanwhile keeps its objects
        (its next sync prunes as usual)."""
        removed = self.apps.pop(name)
        self.queue.forget(name)
        if not self.queue.running(name):
            await self._retire(removed, uninstall)
            return
        task = asyncio.create_task(self._retire_later(removed, uninstall), name=f"retire-{name}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _retire_later(
        self, removed: AppSpec, uninstall: Callable[[AppSpec], Awaitable[None]] | None
    ) -> None:
        await self.queue.idle(removed.name)
        async with self._declaring:  # not while a later declaration is being adopted
            if removed.name not in self.apps:
                await self._retire(removed, uninstall)

    async def _retire(
        self, removed: AppSpec, uninstall: Callable[[AppSpec], Awaitable[None]] | None
    ) -> None:
        name = removed.name
        if uninstall is not None:
            try:
                await uninstall(removed)
            except GitwardError as e:
                log.error("removing the objects of %s failed: %s", name, e)  # noqa: TRY400
        await self.store.delete_status(name)
        self.status.pop(name, None)
        self.steps.memory.pop(name, None)
        self.steps.desired.pop(name, None)
        self.steps.owned_fields.pop(name, None)
        self.steps.refused_at.pop(name, None)

    # ------------------------------------------------------------------ triggers

    def trigger(
        self,
        app: str,
        trigger: Trigger = Trigger.MANUAL,
        actor: str = "gitward",
        request: SyncRequest | None = None,
    ) -> None:
        """Queue ``app``; ``request``: a person's options for this one sync."""
        if app not in self.apps:
            raise KeyError(app)
        if self.shard is not None and not self.shard.owns(app):
            options = request.encode() if request is not None else ""  # "": none
            self.shard.forward(app, trigger.value, actor, options)  # the owner picks it up
            return
        self.queue.add(app, trigger, actor, request=request)

    def objects(self, app: str) -> frozenset[ResourceKey] | None:
        """The objects of ``app``: those Git holds as last looked, and those applied
        before that Git no longer holds (waiting to be pruned). None: not looked yet."""
        if app not in self.apps:
            raise KeyError(app)
        desired = self.steps.desired.get(app)
        if desired is None:
            return None
        return desired | self.steps.owned_fields.get(app, {}).keys()

    def apps_for_push(
        self, repo_urls: frozenset[str], normalize: Callable[[str], str]
    ) -> list[str]:
        """Apps with a source in the repository pushed to.

        ``repo_urls`` come normalized from the payload reader; normalizing them again
        would turn ``host:port/path`` into an scp-style path and match nothing."""
        wanted = set(repo_urls)
        return sorted(
            n
            for n, a in self.apps.items()
            if any(normalize(s.repo_url) in wanted for s in a.all_sources())  # multi-source
        )

    def on_live_event(self, kind: str, obj: JsonObject) -> None:
        """A managed object changed in the cluster: look again soon (self-heal: re-apply).

        Changes gitward made itself, and status updates by controllers, are not drift;
        they only refresh the health of an app that has not settled yet.
        """
        labels = (obj.get("metadata") or {}).get("labels") or {}
        app = labels.get(APP_LABEL)
        if app not in self.apps:
            return
        desired = self.steps.desired.get(app)
        key = ResourceKey.of(obj)
        if desired is not None and key not in desired:
            return  # not (or no longer) part of the app, e.g. an object being pruned
        owned = self.steps.owned_fields.get(app, {}).get(key)
        if kind != "DELETED" and not drifted(obj, self.settings.field_manager, owned):
            status = self.status.get(app)
            # Also while the app runs: its sync may be judging health from a snapshot
            # older than this status update (a Deployment seen at generation 1 of 2).
            healthy = status is not None and status.health.status is HealthStatus.HEALTHY
            if not healthy or self.queue.pending(app):
                self.queue.add(app, Trigger.HEALTH, delay=self.settings.watch_debounce)
            return
        spec = self.apps[app]
        memory = self.steps.memory.get(app, Memory())
        self.steps.memory[app] = dataclasses.replace(memory, dirty=True)
        self.metrics.drift.labels(app).inc()
        if spec.sync_policy.automated and spec.sync_policy.self_heal:
            self.queue.add(app, Trigger.SELFHEAL, delay=self.settings.selfheal_debounce)
        else:
            self.queue.add(app, Trigger.WATCH, delay=self.settings.watch_debounce)

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        for interrupted in await self.store.mark_interrupted():
            log.warning(
                "sync %s of %s was interrupted; it will be retried", interrupted.id, interrupted.app
            )
            if interrupted.app in self.apps:  # the next look finishes it (decide, row 11b)
                memory = self.steps.memory.get(interrupted.app, Memory())
                self.steps.memory[interrupted.app] = dataclasses.replace(memory, interrupted=True)
                self.queue.add(interrupted.app, Trigger.REFRESH)
        self._tasks.append(asyncio.create_task(self.queue.run_timer(), name="queue-timer"))
        for i in range(self.settings.workers):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"worker-{i}"))

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._retiring]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def _worker(self) -> None:
        while True:
            item = await self.queue.get()
            try:
                requeue = await self.reconcile(item)
            except Exception as e:  # a bug must not kill the worker; it is logged with the app
                log.exception("reconcile of %s failed unexpectedly", item.app)
                requeue = await self._failed(item, e)
            finally:
                self.queue.done(item.app)
            if requeue is not None and item.app in self.apps:
                again = item.request if requeue.trigger is item.trigger else None  # waited
                self.queue.add(
                    item.app, requeue.trigger, requeue.actor, delay=requeue.after, request=again
                )

    async def _failed(self, item: Item, error: Exception) -> Requeue | None:
        """A round that failed unexpectedly: a bug, or an error the step does not handle
        (the store failing while the status is recorded). The app shows the error and
        is retried as what it was (a person's sync stays a sync) with the app's backoff,
        growing with each failure in a row up to its cap: neither left until the next
        poll (an hour, for some) nor retried at a fixed pace for ever."""
        spec, status = self.apps.get(item.app), self.status.get(item.app)
        if spec is None or status is None:
            return None  # removed meanwhile
        memory = self.steps.memory.get(item.app, Memory())
        failures = memory.failures + 1  # a round that gets through resets it (decide)
        self.steps.memory[item.app] = dataclasses.replace(memory, failures=failures)
        delay = backoff(spec.sync_policy.retry or DEFAULT_RETRY, failures)
        message = f"the reconcile failed unexpectedly ({cause(error)}); retrying in {delay:g} s"
        self.status[item.app] = errored(status, message)
        try:  # the store may be what failed: the API shows the error from memory anyway
            await self.store.put_status(self.status[item.app])
        except GitwardError as e:
            log.warning("recording the failure of %s failed: %s", item.app, e.message)
        return Requeue(delay, item.trigger, item.actor)

    async def reconcile(self, item: Item) -> Requeue | None:
        """One step for one app (see :mod:`.step`); returns when it wants to run again."""
        if item.app not in self.apps:
            return None
        if self.shard is not None and not self.shard.owns(item.app):
            return None  # another replica's; it comes back here with a trigger if it moves
        self.reconciles += 1
        current_app.set(item.app)
        current_revision.set("")
        with self.metrics.reconcile_seconds.labels(item.app).time():
            return await self.steps.step(item)

    # ------------------------------------------------------------------ people

    async def suspend(self, app: str, suspended: bool, actor: str) -> AppStatus:
        if app not in self.apps:
            raise KeyError(app)
        stored = await self.store.set_suspended(app, suspended)
        status = dataclasses.replace(self.status[app], suspended=stored.suspended)
        self.status[app] = status
        if not suspended or self.shard is not None:  # HA: the owner must learn it too
            self.trigger(app, Trigger.REFRESH, actor)
        return status

    async def handed(
        self,
        app: str,
        trigger: Trigger,
        actor: str,
        *,
        finish: bool = False,
        request: SyncRequest | None = None,
    ) -> None:
        """HA: ``app`` came to this replica (taken over, or a trigger another replica
        queued): read its status as the store has it (the previous owner's, a pin or a
        suspension made through another replica), then reconcile it. ``finish``: the
        previous owner was cut off mid-sync; the next look completes that sync."""
        if app not in self.apps:
            return
        stored = await self.store.get_status(app)
        if stored is not None:
            self.status[app] = stored
        if finish:
            memory = self.steps.memory.get(app, Memory())
            self.steps.memory[app] = dataclasses.replace(memory, interrupted=True)
        self.queue.add(app, trigger, actor, request=request)

    def set_pin(self, app: str, pin: Pin | None) -> None:
        """A person pinned or unpinned ``app`` through the store: keep memory in step."""
        self.status[app] = dataclasses.replace(self.status[app], pin=pin)

    # ------------------------------------------------------------------ AppsView

    def names(self) -> list[str]:
        return sorted(self.apps)

    def declared(self, app: str) -> AppSpec:
        return self.apps[app]

    def observed(self, app: str) -> AppStatus:
        if app not in self.apps:
            raise KeyError(app)
        return self.status.get(app) or AppStatus(app=app)

    def observed_all(self) -> list[AppStatus]:
        return [self.status[n] for n in sorted(self.status)]

    def queue_depth(self) -> int:
        return len(self.queue)


def _stamped(listener: Callable[[SyncEvent], None], clock: Clock) -> Callable[[SyncEvent], None]:
    """The listener, given each event with the (injected) wall-clock time it happened."""
    return lambda event: listener(dataclasses.replace(event, at=clock.wall()))
