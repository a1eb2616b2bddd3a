"""Follow one kind of object in a cluster: LIST once, then WATCH for as long as asked.

Before this module: :mod:`gitward.kube.client`, the REST seam. After it:
:mod:`gitward.kube.cache`, which keeps the objects and tells the controller of changes.

The protocol is the one Kubernetes' own informers speak:

- A LIST (in pages) returns the objects and a ``resourceVersion`` (RV) naming that
  snapshot. Every object becomes an ``ADDED`` event.
- A WATCH from that RV streams every later change, one JSON event per line. Bookmarks
  advance the RV without a change; the server ends the stream after ``timeoutSeconds``.
- A stream that ends, or breaks, is resumed from the last RV seen: nothing is missed and
  nothing is listed again. A cluster of idle objects therefore costs one LIST per kind
  for the life of the process, and one quiet connection.
- Only when the server no longer keeps history from that RV (``410 Gone``, reason
  ``Expired``) is the kind listed again. The new list is compared with what the watcher
  knew (a key and an RV per object, not the objects), and the difference comes out as
  events: objects deleted while away come out as ``DELETED``.
- Failures never reach the consumer of :meth:`Watcher.events`: they are retried with
  capped exponential backoff (the sleep is injected), the last one is kept in
  :attr:`Watcher.last_error` for status pages, and the counters in :class:`WatchStats`
  prove what happened.

:attr:`Watcher.synced` says whether what the consumer has taken is the server's current
state, so planning may read it instead of asking the server. It is set once the events
of a LIST are taken, cleared the moment a failure breaks the stream or the history
expires (while backing off and while listing again, the cache misses changes), and set
again when a resumed WATCH delivers its first line: the server has accepted the
resourceVersion, so every change missed meanwhile is on its way in order (a version too
old gets a 410 instead, and a LIST). A stream the server ends normally keeps it set: the
next WATCH resumes from the last version seen and misses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum

import orjson

from gitward.errors import KubeError
from gitward.kube.client import KubeClient
from gitward.kube.errors import translate_status
from gitward.model import ApiResource, GroupKind, JsonObject, ResourceKey

Sleep = Callable[[float], Awaitable[None]]

NOT_FOUND = 404
GONE = 410


class EventType(StrEnum):
    """What happened to an object. Bookmarks and errors are handled inside the watcher."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


_CHANGES = frozenset(t.value for t in EventType)


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """One change. ``object`` is the body the server sent; treat it as read-only.

    ``final_state_unknown`` marks a ``DELETED`` found by comparing a new LIST with what
    was known: the object vanished while the watch was away, so ``object`` holds only its
    identity and last known resourceVersion (the cache substitutes its stored copy).
    """

    type: EventType
    key: ResourceKey
    object: JsonObject
    final_state_unknown: bool = False


@dataclass(frozen=True)
class WatchSettings:
    """How a watcher talks to the server. Defaults suit production; tests shorten them."""

    timeout_seconds: int = 300  # the server ends each WATCH after this; we resume at once
    page_size: int = 500  # objects per LIST page
    list_read_timeout: float = 60.0  # seconds to wait for each chunk of a LIST page
    read_margin: float = 30.0  # a WATCH read waits timeout_seconds + this, then reconnects
    backoff_initial: float = 0.25  # seconds before the first retry after a failure
    backoff_max: float = 30.0  # the cap of the doubling delay


@dataclass
class WatchStats:
    """Counters of a watcher, for tests and metrics ("no periodic re-LIST")."""

    lists: int = 0  # complete LISTs started (pages are not counted separately)
    watches: int = 0  # WATCH connections opened
    events: int = 0  # ADDED/MODIFIED/DELETED events received from WATCH streams
    expired: int = 0  # times the server said the RV was too old (410), forcing a LIST
    errors: int = 0  # failures retried after a backoff


@dataclass(frozen=True)
class Checkpoint:
    """Where a watcher stands: resume a new one from here without an initial LIST."""

    resource_version: str
    known: Mapping[ResourceKey, str]  # resourceVersion by object


class Backoff:
    """Doubling delays from ``initial`` up to ``cap``; ``reset`` after a success."""

    def __init__(self, initial: float, cap: float) -> None:
        self._initial = initial
        self._cap = cap
        self._next = initial

    def next(self) -> float:
        delay = self._next
        self._next = min(self._cap, self._next * 2)
        return delay

    def reset(self) -> None:
        self._next = self._initial


class Watcher:
    """Events for one kind, optionally in one namespace and matching a label selector.

    ``events()`` may be iterated by one consumer at a time; ``synced`` is set while the
    events taken so far are the server's current state (see the module docstring).
    """

    def __init__(
        self,
        client: KubeClient,
        group_kind: GroupKind,
        *,
        namespace: str | None = None,
        labels: str | None = None,
        settings: WatchSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        resume: Checkpoint | None = None,
    ) -> None:
        self.group_kind = group_kind
        self.namespace = namespace
        self.labels = labels
        self.stats = WatchStats()
        self.synced = asyncio.Event()
        self.last_error: KubeError | None = None
        self._client = client
        self._settings = settings or WatchSettings()
        self._sleep = sleep
        self._resource: ApiResource | None = None
        self._rediscover = False  # look the kind up afresh (its served version may be gone)
        self._rv: str | None = resume.resource_version if resume else None
        self._known: dict[ResourceKey, str] = dict(resume.known) if resume else {}

    def checkpoint(self) -> Checkpoint:
        """The current RV and known objects (raises if no LIST has completed yet)."""
        if self._rv is None:
            raise ValueError(f"the watch of {self.group_kind} has not listed yet")
        return Checkpoint(self._rv, dict(self._known))

    async def events(self) -> AsyncGenerator[WatchEvent, None]:
        """Every change to the watched objects until the iterator is closed or cancelled.

        Use ``async with contextlib.aclosing(watcher.events()) as events`` so that leaving
        the loop early closes the WATCH connection at once.
        """
        backoff = Backoff(self._settings.backoff_initial, self._settings.backoff_max)
        while True:
            try:
                if self._rv is None:
                    self.synced.clear()
                    async for event in self._relist():
                        yield event
                    backoff.reset()
                    self.synced.set()
                async for event in self._watch(backoff):
                    yield event
            except KubeError as e:
                self.synced.clear()  # changes are being missed until a WATCH resumes
                if e.status == GONE:
                    self.stats.expired += 1
                    self._rv = None  # the history is gone: LIST again, emit the difference
                    continue
                await self._retry_later(e, backoff)

    def restart(self) -> None:
        """Forget the stream position after a failure the watcher did not expect: the
        next :meth:`events` LISTs again and reports what differs from what it knew."""
        self.synced.clear()
        self._rv = None
        self._resource, self._rediscover = None, True

    async def _retry_later(self, error: KubeError, backoff: Backoff) -> None:
        self.stats.errors += 1
        self.last_error = error
        if error.status == NOT_FOUND:
            self._resource, self._rediscover = None, True
        await self._sleep(backoff.next())

    # ------------------------------------------------------------------ LIST

    async def _relist(self) -> AsyncGenerator[WatchEvent, None]:
        """LIST every page, emitting what differs from what was known."""
        self.stats.lists += 1
        resource = await self._api_resource()
        path = resource.collection_path(self.namespace)
        params = {**self._selector(), "limit": str(self._settings.page_size)}
        seen: set[ResourceKey] = set()
        while True:
            page = await self._read_page(path, params)
            for item in page.get("items") or []:
                # List items omit apiVersion and kind; restore them so they are whole objects.
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                event = self._listed(item, seen)
                if event is not None:
                    yield event
            meta = page.get("metadata") or {}
            if not meta.get("continue"):
                break
            params["continue"] = str(meta["continue"])
        for key in self._known.keys() - seen:
            rv = self._known.pop(key)
            yield WatchEvent(EventType.DELETED, key, _tombstone(resource, key, rv), True)
        self._rv = str(meta.get("resourceVersion") or "")

    def _listed(self, item: JsonObject, seen: set[ResourceKey]) -> WatchEvent | None:
        key = ResourceKey.of(item)
        seen.add(key)
        rv = str(item["metadata"].get("resourceVersion") or "")
        before = self._known.get(key)
        self._known[key] = rv
        if before is None:
            return WatchEvent(EventType.ADDED, key, item)
        if before != rv:
            return WatchEvent(EventType.MODIFIED, key, item)
        return None  # unchanged since the watch last saw it

    async def _read_page(self, path: str, params: Mapping[str, str]) -> JsonObject:
        lines = self._client.stream_lines(
            "LIST", path, params, read_timeout=self._settings.list_read_timeout
        )
        async with aclosing(lines):
            body = b"".join([line async for line in lines])
        page = _loads(body, f"LIST {self.group_kind}")
        if not isinstance(page, dict):
            raise KubeError(f"LIST {self.group_kind}: the answer is not an object")
        return page

    # ------------------------------------------------------------------ WATCH

    async def _watch(self, backoff: Backoff) -> AsyncGenerator[WatchEvent, None]:
        """One WATCH connection, from the last RV until the server ends it."""
        resource = await self._api_resource()
        params = {
            **self._selector(),
            "watch": "true",
            "resourceVersion": self._rv or "",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self._settings.timeout_seconds),
        }
        read_timeout = self._settings.timeout_seconds + self._settings.read_margin
        self.stats.watches += 1
        lines = self._client.stream_lines(
            "WATCH", resource.collection_path(self.namespace), params, read_timeout=read_timeout
        )
        async with aclosing(lines):
            async for line in lines:
                backoff.reset()  # the server answered: the next failure starts small again
                event = self._decode(line)
                self.synced.set()  # the server accepted the version: nothing is missed
                if event is not None:
                    yield event
        backoff.reset()

    def _decode(self, line: bytes) -> WatchEvent | None:
        """Turn one line into an event, advancing the RV; bookmarks yield nothing."""
        raw = _loads(line, f"WATCH {self.group_kind}")
        kind = raw.get("type") if isinstance(raw, dict) else None
        obj = raw.get("object") if isinstance(raw, dict) else None
        if not isinstance(obj, dict):
            raise KubeError(f"WATCH {self.group_kind}: an event without an object: {line[:200]!r}")
        if kind == "ERROR":
            code = int(obj.get("code") or 500)
            raise translate_status(code, obj, "WATCH", str(self.group_kind))
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "BOOKMARK":
            self._rv = rv or self._rv
            return None
        if kind not in _CHANGES:
            return None  # a type a newer server may send; nothing to do with it
        key = ResourceKey.of(obj)
        if kind == EventType.DELETED:
            self._known.pop(key, None)
        else:
            self._known[key] = rv
        self._rv = rv or self._rv
        self.stats.events += 1
        return WatchEvent(EventType(kind), key, obj)

    # ------------------------------------------------------------------ helpers

    async def _api_resource(self) -> ApiResource:
        if self._resource is None:
            group, kind = self.group_kind.group, self.group_kind.kind
            self._resource = await self._client.resource_for(group, kind, refresh=self._rediscover)
            self._rediscover = False
        return self._resource

    def _selector(self) -> dict[str, str]:
        return {"labelSelector": self.labels} if self.labels else {}


def _loads(data: bytes, what: str) -> object:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise KubeError(f"{what}: the server sent invalid JSON: {e}", transient=True) from e


def _tombstone(resource: ApiResource, key: ResourceKey, rv: str) -> JsonObject:
    meta: JsonObject = {"name": key.name, "resourceVersion": rv}
    if key.namespace:
        meta["namespace"] = key.namespace
    return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": meta}
