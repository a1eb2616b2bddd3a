"""The Activity page's live source: new and finished syncs, audit entries, and drift.

Before: the controller writes syncs and the API writes audit entries to the store, and
replaces an app's status when it learns something (:class:`gitward.ui.live.Changes`
sees that). After: every open Activity tab (:mod:`gitward.ui.activity_page`) hears of
each new entry once, within ``interval``, and re-renders its feed if the entry passes
its filters and the person may view its app.

One :class:`Feed` per UI reads the newest rows of the store every ``interval`` while at
least one tab watches (two indexed queries, whatever the number of tabs) and publishes
what is new or finished since its last read. A reconnecting tab says which publication
it had seen (``<epoch>.<generation>``, the SSE id); :func:`catch_up` gives what it
missed, or None when that is not known any more (then the tab re-renders).

Drift that gitward does not correct is not in the store: the controller records it as
the app's status (OutOfSync with an ``OutOfSync`` condition naming what differs, written
by a look that did not sync: no automation, or self-heal off). The feed watches the
statuses from the start of the UI and keeps the last :data:`KEEP` such findings in
memory: an entry when an app newly gets that condition (or its text changes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from gitward.errors import GitwardError
from gitward.model import AppSpec
from gitward.model.history import AppStatus, AuditEntry, Condition, SyncRecord, SyncResult
from gitward.ports import AppsView, HistoryStore
from gitward.ui.live import Changes

log = logging.getLogger("gitward.ui")

WINDOW = 100  # newest syncs and audit entries read per look at the store
KEEP = 500  # drift findings remembered
RECENT = 256  # publications kept for reconnecting tabs


@dataclass(frozen=True)
class DriftEntry:
    """An app found to differ from Git by a look that did not sync."""

    id: int
    app: str
    at: datetime | None  # when the controller recorded it (the status's time)
    message: str  # the controller's own words: "differs from Git: <objects>"
    sha: str | None  # the commit Git wants
    live_sha: str | None  # the commit last applied
    why: str  # why gitward leaves it: no automation, or self-heal off

    @property
    def in_cluster(self) -> bool:
        """The wanted commit is the live one: something changed in the cluster."""
        return self.sha is not None and self.sha == self.live_sha


Entry = SyncRecord | AuditEntry | DriftEntry


def out_of_sync(status: AppStatus | None) -> Condition | None:
    return next((c for c in status.conditions if c.type == "OutOfSync"), None) if status else None


def drift_of(
    before: AppStatus | None, after: AppStatus, spec: AppSpec | None, number: int
) -> DriftEntry | None:
    """Finding ``number`` if ``after`` newly says OutOfSync (a look found differences and
    did not sync); None if it does not, or already did with the same words."""
    found = out_of_sync(after)
    if found is None or found == out_of_sync(before):
        return None
    return DriftEntry(
        number,
        after.app,
        after.updated_at,
        found.message,
        after.wanted.sha if after.wanted else None,
        after.live_sha,
        left_because(spec),
    )


def left_because(spec: AppSpec | None) -> str:
    if spec is None:
        return ""
    if not spec.sync_policy.automated:
        return "not automated: waits for a person to sync"
    return "" if spec.sync_policy.self_heal else "self-heal is off"


def catch_up(
    recent: Sequence[tuple[int, tuple[Entry, ...] | None]], generation: int, seen: int
) -> tuple[Entry, ...] | None:
    """What was published after generation ``seen``; None if that is not known.

    ``recent`` holds the last publications in order, each (generation, its entries) or
    (generation, None) when the feed could not tell what changed (it read the store for
    the first time, or more than a window changed between two reads).
    """
    if seen == generation:
        return ()
    if seen > generation or not recent or seen < recent[0][0] - 1:
        return None  # another process's counter, or older than what is kept
    missed: list[Entry] = []
    for number, entries in recent:
        if number > seen:
            if entries is None:
                return None
            missed += entries
    return tuple(missed)


@dataclass(eq=False)  # kept in a set: identity
class Watcher:
    entries: list[Entry] = field(default_factory=list)
    unknown: bool = False  # something changed that the feed cannot name: re-render
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self) -> tuple[list[Entry], bool]:
        taken = self.entries, self.unknown
        self.entries, self.unknown = [], False
        self.wake.clear()
        return taken

    async def batches(
        self, *, min_interval: float, keepalive: float, clock: Callable[[], float]
    ) -> AsyncIterator[tuple[list[Entry], bool] | None]:
        """At most one batch per ``min_interval`` (like the list's stream); None: idle."""
        last = -min_interval
        while True:
            try:
                async with asyncio.timeout(keepalive):  # not wait_for: it may lose a cancel
                    await self.wake.wait()
            except TimeoutError:
                yield None
                continue
            delay = last + min_interval - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            last = clock()
            yield self.take()


class Feed:
    """Fans out new syncs, audit entries and drift findings to the open Activity tabs."""

    def __init__(
        self, apps: AppsView, store: HistoryStore, changes: Changes, interval: float = 0.5
    ) -> None:
        self.apps, self.store, self.changes, self.interval = apps, store, changes, interval
        self.epoch = secrets.token_hex(4)  # a restarted server's counters mean nothing here
        self.generation = 0
        self.drift: deque[DriftEntry] = deque(maxlen=KEEP)
        self._recent: deque[tuple[int, tuple[Entry, ...] | None]] = deque(maxlen=RECENT)
        self._watchers: set[Watcher] = set()
        self._statuses: dict[str, AppStatus] = {}
        self._syncs: dict[int, SyncResult] | None = None  # None: the store not read yet
        self._running: set[int] = set()  # syncs seen Running
        self._audit_top = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def mark(self) -> str:
        """The SSE id of the latest publication (read it *before* reading the store)."""
        return f"{self.epoch}.{self.generation}"

    def since(self, mark: str | None) -> tuple[Entry, ...] | None:
        epoch, _, number = (mark or "").partition(".")
        if epoch != self.epoch or not number.isdigit():
            return None
        return catch_up(self._recent, self.generation, int(number))

    def start(self) -> None:
        if self._task is None:
            self._look({s.app for s in self.apps.observed_all()})  # what drifted before us
            self._task = asyncio.create_task(self._loop(), name="ui-activity-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.contextmanager
    def watch(self) -> Iterator[Watcher]:
        watcher = Watcher()
        self._watchers.add(watcher)
        try:
            yield watcher
        finally:
            self._watchers.discard(watcher)

    def publish(self, entries: Iterable[Entry], unknown: bool = False) -> None:
        found = list(entries)
        if not found and not unknown:
            return
        self.generation += 1
        self._recent.append((self.generation, None if unknown else tuple(found)))
        for watcher in self._watchers:
            watcher.entries += found
            watcher.unknown |= unknown
            if len(watcher.entries) > 10 * WINDOW:  # a tab that does not read: re-render
                watcher.entries, watcher.unknown = [], True
            watcher.wake.set()

    async def _loop(self) -> None:
        with self.changes.subscribe() as changed:
            while True:
                await asyncio.sleep(self.interval)
                await self.step(changed.take()[0])

    async def step(self, changed: set[str]) -> None:
        """One round: drift among the ``changed`` apps, then the store if anyone watches
        (nobody watching: no reads; the next read catches up)."""
        found: list[Entry] = list(self._look(changed))
        unknown = False
        if self._watchers:
            try:
                more, unknown = await self._read_store()
            except GitwardError as e:
                log.warning("the activity feed could not read the store: %s", e)
            else:
                found += more
        self.publish(found, unknown)

    def _look(self, names: set[str]) -> list[DriftEntry]:
        """Drift findings among the apps whose status changed."""
        found = []
        for name in sorted(names):
            try:
                after, spec = self.apps.observed(name), self.apps.declared(name)
            except KeyError:  # removed from Git
                self._statuses.pop(name, None)
                continue
            number = self.drift[0].id + 1 if self.drift else 1
            entry = drift_of(self._statuses.get(name), after, spec, number)
            self._statuses[name] = after
            if entry is not None:
                self.drift.appendleft(entry)
                found.append(entry)
        return found

    async def _read_store(self) -> tuple[list[Entry], bool]:
        """New and finished syncs and new audit entries since the last read; whether
        something may have been missed (the first read, or more than a window new)."""
        syncs = await self.store.list_syncs(None, limit=WINDOW)
        before, self._syncs = self._syncs, {s.id: s.result for s in syncs}
        found: list[Entry] = [*await self._finished_outside(self._syncs)]
        self._running |= {s.id for s in syncs if s.result is SyncResult.RUNNING}
        unknown = before is None
        if before is not None:
            top = max(before, default=0)
            unknown = len(syncs) == WINDOW and min(self._syncs) > top + 1
            found += [s for s in syncs if s.id > top or before.get(s.id, s.result) != s.result]
        audit = await self._read_audit()
        if audit:
            unknown |= len(audit) == WINDOW and min(e.id for e in audit) > self._audit_top + 1
            found += [e for e in audit if e.id > self._audit_top]
            self._audit_top = max(self._audit_top, *(e.id for e in audit))
        return found, unknown

    async def _finished_outside(self, window: dict[int, SyncResult]) -> list[SyncRecord]:
        """Syncs seen running that have left the window since: read one by one (rare)."""
        found = []
        for sync_id in sorted(self._running):
            result = window.get(sync_id)
            if result is None:
                record = await self.store.get_sync(sync_id)
                if record is None or record.result is not SyncResult.RUNNING:
                    found += [record] if record else []
                    self._running.discard(sync_id)
            elif result is not SyncResult.RUNNING:
                self._running.discard(sync_id)  # finished in the window: found there
        return found

    async def _read_audit(self) -> list[AuditEntry]:
        if not isinstance(self.store, AuditLog):  # the SQL store has it; some fakes not
            return []
        return await self.store.list_audit(limit=WINDOW)


@runtime_checkable
class AuditLog(Protocol):
    async def list_audit(self, limit: int = 100, app: str | None = None) -> list[AuditEntry]: ...
