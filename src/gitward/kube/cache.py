"""The live objects gitward manages in one cluster, kept current by watches.

Before this module: :mod:`gitward.kube.watch`, one LIST+WATCH per kind. After it: the
controller, which reads live state from here instead of listing per reconcile, and
subscribes to changes to mark apps OutOfSync and self-heal within a second.

Costs are per kind, not per app: one watcher (one connection) per tracked kind, with a
label selector that matches every object gitward applies (``gitward.dev/app`` present),
so 100 apps of 100 objects share a handful of watches. Objects are stored once, by
:class:`ResourceKey`, with an index by app label.

Memory: stored objects drop ``metadata.managedFields`` (all but gitward's own entry) —
often the largest part of a small object and of no use for comparing or health —
through a shallow copy of the top level and of ``metadata`` only; everything else
(``spec``, ``status``, labels, annotations, ``resourceVersion``) is shared with the
decoded event, not copied.
Subscribers still receive the object as the server sent it (managedFields included,
which tells who made a manual change). Everything handed out is shared: read-only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType

from gitward.errors import KubeError
from gitward.kube.client import KubeClient
from gitward.kube.watch import (
    Backoff,
    EventType,
    Sleep,
    Watcher,
    WatchEvent,
    WatchSettings,
    WatchStats,
)
from gitward.model import GroupKind, JsonObject, ResourceKey
from gitward.model.annotations import APP_LABEL

log = logging.getLogger(__name__)

# Told of every change after the cache has applied it. Keep it quick (put the event on a
# queue, mark an app): events of one kind are delivered one after the other.
Subscriber = Callable[[EventType, JsonObject], Awaitable[None]]


OWN_MANAGER = "gitward"  # the field manager whose entry planning needs


@dataclass
class _Tracked:
    watcher: Watcher
    task: asyncio.Task[None]


class LiveCache:
    """One per cluster: ``await cache.track(GroupKind("apps", "Deployment"))``, then read."""

    def __init__(
        self,
        client: KubeClient,
        *,
        settings: WatchSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        own_manager: str = OWN_MANAGER,
    ) -> None:
        self._client = client
        self._own_manager = own_manager  # the field manager gitward applies with
        self._settings = settings
        self._sleep = sleep
        self._objects: dict[ResourceKey, JsonObject] = {}
        self._by_app: dict[str, set[ResourceKey]] = {}
        self._tracked: dict[GroupKind, _Tracked] = {}
        self._subscribers: list[Subscriber] = []
        self.restarts: dict[GroupKind, int] = {}  # watches started over after a bug

    async def __aenter__(self) -> LiveCache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ tracking

    async def track(
        self, group_kind: GroupKind, labels: str = APP_LABEL, *, namespace: str | None = None
    ) -> Watcher:
        """Start watching a kind (once; later calls return the same watcher).

        Returns at once: the LIST runs in the background and failures are retried there
        (see ``watcher.last_error``). ``await wait_synced(group_kind)`` to know the first
        LIST is in. Tracking one kind twice with another selector is a programming error.
        """
        tracked = self._tracked.get(group_kind)
        if tracked is not None:
            watcher = tracked.watcher
            if (watcher.labels, watcher.namespace) != (labels, namespace):
                raise ValueError(
                    f"{group_kind} is already tracked with labels={watcher.labels!r} "
                    f"namespace={watcher.namespace!r}"
                )
            return watcher
        watcher = Watcher(
            self._client,
            group_kind,
            namespace=namespace,
            labels=labels,
            settings=self._settings,
            sleep=self._sleep,
        )
        task = asyncio.create_task(
            self._follow(watcher), name=f"gitward watch {self._client.name} {group_kind}"
        )
        self._tracked[group_kind] = _Tracked(watcher, task)
        return watcher

    def synced(self, group_kind: GroupKind) -> bool:
        """Whether the cache holds this kind's current state: listed, and its watch
        neither broken nor listing again (planning reads the cluster otherwise)."""
        tracked = self._tracked.get(group_kind)
        return tracked is not None and tracked.watcher.synced.is_set()

    async def wait_synced(self, *group_kinds: GroupKind, timeout: float = 30.0) -> None:
        """Wait until every given kind (default: all tracked) has listed, or raise."""
        kinds = group_kinds or tuple(self._tracked)
        missing = [str(kind) for kind in kinds if kind not in self._tracked]
        if missing:
            raise ValueError(f"not tracked: {', '.join(missing)}; call track() first")
        waits = [self._tracked[kind].watcher.synced.wait() for kind in kinds]
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*waits)
        except TimeoutError as e:
            raise self._not_synced(kinds, timeout) from e

    def _not_synced(self, kinds: Iterable[GroupKind], timeout: float) -> KubeError:
        pending = [self._tracked[kind].watcher for kind in kinds]
        pending = [w for w in pending if not w.synced.is_set()]
        reasons = "; ".join(
            f"{w.group_kind}: {w.last_error.detail if w.last_error else 'still listing'}"
            for w in pending
        )
        return KubeError(
            f"live objects of cluster {self._client.name!r} not listed within {timeout}s "
            f"({reasons})",
            transient=True,
            hint="is the cluster reachable, and does the kubeconfig's user may list these kinds?",
        )

    def stats(self) -> dict[GroupKind, WatchStats]:
        """Counters of every watcher, for metrics."""
        return {kind: tracked.watcher.stats for kind, tracked in self._tracked.items()}

    async def close(self) -> None:
        """Stop every watcher and wait until their connections are closed."""
        tracked, self._tracked = list(self._tracked.values()), {}
        for item in tracked:
            item.task.cancel()
        await asyncio.gather(*(item.task for item in tracked), return_exceptions=True)

    # ------------------------------------------------------------------ reading

    def get(self, key: ResourceKey) -> JsonObject | None:
        """The live object (managedFields stripped), or None if absent or not tracked."""
        return self._objects.get(key)

    def objects(self, app: str | None = None) -> list[JsonObject]:
        """Every cached object, or those whose ``gitward.dev/app`` label is ``app``."""
        if app is None:
            return list(self._objects.values())
        return [self._objects[key] for key in self._by_app.get(app, ())]

    def __len__(self) -> int:
        return len(self._objects)

    # ------------------------------------------------------------------ subscribing

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Be told of every change; returns a function that unsubscribes.

        For a queue: ``cache.subscribe(lambda kind, obj: queue.put((kind, obj)))``.
        """
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    # ------------------------------------------------------------------ the event loop

    async def _follow(self, watcher: Watcher) -> None:
        """Feed the cache from ``watcher`` for as long as the cache lives.

        Cluster failures are retried inside the watcher. Anything else escaping it is a
        bug, but one kind must not stay frozen for the life of the process because of
        it: the watcher is marked not synced (planning then reads the cluster), the
        error is logged, and the watch starts over with a LIST after a capped backoff.
        """
        settings = self._settings or WatchSettings()
        backoff = Backoff(settings.backoff_initial, settings.backoff_max)
        while True:
            try:
                async with aclosing(watcher.events()) as events:
                    async for event in events:
                        told = self._apply(event)
                        await self._notify(event.type, told)
                        backoff.reset()
                log.error("the watch of %s in %s ended", watcher.group_kind, self._client.name)
            except Exception:
                log.exception(
                    "the watch of %s in %s failed; listing again",
                    watcher.group_kind,
                    self._client.name,
                )
            watcher.restart()
            self.restarts[watcher.group_kind] = self.restarts.get(watcher.group_kind, 0) + 1
            await self._sleep(backoff.next())

    def _apply(self, event: WatchEvent) -> JsonObject:
        """Update the store and index; return the object subscribers are told about."""
        key = event.key
        if event.type == EventType.DELETED:
            old = self._objects.pop(key, None)
            self._unindex(key, old)
            return old if event.final_state_unknown and old is not None else event.object
        old = self._objects.get(key)
        stored = _without_managed_fields(event.object, self._own_manager)
        self._objects[key] = stored
        if _app_of(old) != _app_of(stored):
            self._unindex(key, old)
            self._index(key, stored)
        return event.object

    def _index(self, key: ResourceKey, obj: JsonObject) -> None:
        app = _app_of(obj)
        if app is not None:
            self._by_app.setdefault(app, set()).add(key)

    def _unindex(self, key: ResourceKey, obj: JsonObject | None) -> None:
        app = _app_of(obj)
        keys = self._by_app.get(app) if app is not None else None
        if app is None or keys is None:
            return
        keys.discard(key)
        if not keys:
            del self._by_app[app]

    async def _notify(self, kind: EventType, obj: JsonObject) -> None:
        for subscriber in list(self._subscribers):
            try:
                await subscriber(kind, obj)
            except Exception:  # one faulty subscriber must not stop the others or the watch
                log.exception("a subscriber to %s failed on %s", self._client.name, kind)


def _app_of(obj: JsonObject | None) -> str | None:
    if obj is None:
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    app = labels.get(APP_LABEL)
    return str(app) if app is not None else None


def _without_managed_fields(obj: JsonObject, own_manager: str = OWN_MANAGER) -> JsonObject:
    """A shallow copy without other managers' ``metadata.managedFields`` entries.

    gitward's own Apply entry is kept: planning compares its field set with the
    inventory to know, without a dry-run, that nobody took a field from gitward.
    """
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    slim_meta = {name: value for name, value in meta.items() if name != "managedFields"}
    own = [
        e
        for e in meta.get("managedFields") or ()
        if isinstance(e, dict) and e.get("manager") == own_manager
    ]
    if own:
        slim_meta["managedFields"] = own
    return {**obj, "metadata": slim_meta}
