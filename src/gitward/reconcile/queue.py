"""A work queue of application names: deduplicated, delayed, one worker per app at a time.

Like client-go's workqueue: an app is queued at most once; while it is being reconciled
it is never handed to a second worker, and if it is queued again meanwhile it runs once
more right after. Adds may be delayed (poll intervals, backoff, debounce); the earliest
due time wins. Each queued app remembers *why* it was queued (the strongest
:class:`~gitward.model.history.Trigger`, by its priority), so the reconcile knows
whether a sync was asked for.

Time comes from the injected clock only. :meth:`WorkQueue.release_due` moves the apps
that are due to the ready queue and says how long until the next one; ``run_timer``
calls it in a loop, and tests that drive a fake clock call it themselves after
advancing the clock, without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from dataclasses import dataclass

from gitward.model.history import SYSTEM_ACTOR, Trigger
from gitward.model.syncrequest import SyncRequest
from gitward.ports import Clock


@dataclass(frozen=True)
class Item:
    app: str
    trigger: Trigger
    actor: str = SYSTEM_ACTOR
    request: SyncRequest | None = None  # a person's options for a manual sync


class WorkQueue:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._ready: asyncio.Queue[str] = asyncio.Queue()
        self._queued: dict[str, Item] = {}  # in _ready or waiting in _delayed
        self._delayed: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._active: set[str] = set()
        self._again: dict[str, tuple[Item, float]] = {}  # queued while active: (item, due)
        self._counter = itertools.count()
        self._wakeup = asyncio.Event()
        self._idle: dict[str, asyncio.Event] = {}  # set when the app's run ends

    def __len__(self) -> int:
        return len(self._queued) + len(self._again)

    def add(
        self,
        app: str,
        trigger: Trigger = Trigger.POLL,
        actor: str = SYSTEM_ACTOR,
        delay: float = 0.0,
        request: SyncRequest | None = None,
    ) -> None:
        """Queue ``app`` to run after ``delay`` seconds (sooner if already due earlier).

        A later trigger of the same strength replaces an earlier one with its request:
        the newest person's options win, never a mix of two."""
        item = Item(app, trigger, actor, request)
        due = self.clock.monotonic() + delay
        if app in self._active:
            previous = self._again.get(app)
            if previous is None:
                self._again[app] = (item, due)
            else:
                self._again[app] = (_stronger(previous[0], item), min(previous[1], due))
            return
        current = self._queued.get(app)
        self._queued[app] = _stronger(current, item)
        if app in self._due and self._due[app] <= due:
            return
        self._due[app] = due
        if due <= self.clock.monotonic():
            self._ready.put_nowait(app)
        else:
            heapq.heappush(self._delayed, (due, next(self._counter), app))
        self._wakeup.set()  # the timer re-checks due times on every change

    async def get(self) -> Item:
        """The next app to reconcile; the caller must call :meth:`done` afterwards."""
        while True:
            app = await self._ready.get()
            if app in self._queued and app not in self._active:
                self._due.pop(app, None)
                self._active.add(app)
                return self._queued.pop(app)

    def done(self, app: str) -> None:
        self._active.discard(app)
        idle = self._idle.pop(app, None)
        if idle is not None:
            idle.set()
        again = self._again.pop(app, None)
        if again is not None:
            item, due = again
            delay = max(0.0, due - self.clock.monotonic())
            self.add(item.app, item.trigger, item.actor, delay=delay, request=item.request)

    def pending(self, app: str) -> bool:
        """True while ``app`` runs, or is due to run now: a trigger not yet fully handled."""
        if app in self._active or app in self._again:
            return True
        return app in self._queued and self._due.get(app, 0.0) <= self.clock.monotonic()

    def running(self, app: str) -> bool:
        """True while a worker reconciles ``app``."""
        return app in self._active

    async def idle(self, app: str) -> None:
        """Return once no worker reconciles ``app`` (at once if none does)."""
        if app in self._active:
            await self._idle.setdefault(app, asyncio.Event()).wait()

    def forget(self, app: str) -> None:
        """Drop a queued app (it was deleted)."""
        self._queued.pop(app, None)
        self._again.pop(app, None)
        self._due.pop(app, None)

    def release_due(self) -> float | None:
        """Move every delayed app that is due by the clock to the ready queue; return the
        seconds until the next one is due (None when nothing waits)."""
        now = self.clock.monotonic()
        while self._delayed and self._delayed[0][0] <= now:
            due, _, app = heapq.heappop(self._delayed)
            if self._due.get(app) == due:
                self._ready.put_nowait(app)
        return self._delayed[0][0] - now if self._delayed else None

    def due_in(self, app: str) -> float | None:
        """Seconds until ``app`` is due (0 if ready), None if it is not queued."""
        due = self._due.get(app)
        if due is None:
            again = self._again.get(app)
            due = again[1] if again else None
        return None if due is None else max(0.0, due - self.clock.monotonic())

    def queued(self, app: str) -> Item | None:
        """Why ``app`` is queued, if it is."""
        again = self._again.get(app)
        return self._queued.get(app) or (again[0] if again else None)

    async def run_timer(self) -> None:
        """Release delayed apps when they are due. Runs until cancelled."""
        while True:
            timeout = self.release_due()
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):  # not wait_for: it may lose a cancel
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()


def _stronger(current: Item | None, new: Item) -> Item:
    if current is None or new.trigger.priority >= current.trigger.priority:
        return new
    return current
