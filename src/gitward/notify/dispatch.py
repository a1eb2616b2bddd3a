"""Deliver notifications from a bounded background queue, with retries and backoff.

The controller calls the :class:`Notifier` with each event; the call only puts jobs on
in-memory queues and returns, so a sync never waits for a receiver. A fixed set of
workers sends them; each (receiver, app) pair always goes to the same worker, so a
commit's ``pending`` status can never overtake its ``success``. A failed attempt
(network error, timeout, HTTP 408/429/5xx) is retried after an exponential backoff up
to ``attempts``; other 4xx answers are permanent. When a queue is full the new job is
dropped and logged: memory stays bounded whatever the receivers do. Log lines name the
receiver, app and event, never a URL, header or body (they may carry tokens).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx2 as httpx

from gitward.model.events import SyncEvent
from gitward.notify.config import Delivery, NotifyConfig, Receiver
from gitward.notify.payloads import Request, request_for
from gitward.ports import Clock, SystemClock

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({408, 425, 429})
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """How one delivery ended: delivered, or given up after ``attempts`` tries."""

    receiver: str
    app: str
    event: str
    delivered: bool
    attempts: int
    error: str = ""  # the last failure, without URL or secrets


@dataclass(frozen=True)
class _Job:
    receiver: Receiver
    event: SyncEvent
    delivery_id: str


class Notifier:
    """The controller's listener: ``notifier(event)`` never blocks and never raises."""

    def __init__(
        self,
        config: NotifyConfig,
        *,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        workers: int = 4,
        keep: int = 1000,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._sleep = sleep
        self._transport = transport
        size = max(1, config.delivery.queue_size // workers)
        self._queues: list[asyncio.Queue[_Job]] = [asyncio.Queue(size) for _ in range(workers)]
        self._tasks: list[asyncio.Task[None]] = []
        self.outcomes: deque[Outcome] = deque(maxlen=keep)  # the newest, for the API/tests
        self.dropped = 0

    def __call__(self, event: SyncEvent) -> None:
        for receiver in self.config.receivers:
            if not receiver.wants(event.app, event.kind):
                continue
            job = _Job(receiver, event, str(uuid.uuid4()))
            queue = self._queues[
                zlib.crc32(f"{receiver.name}/{event.app}".encode()) % len(self._queues)
            ]
            try:
                queue.put_nowait(job)
            except asyncio.QueueFull:
                self.dropped += 1
                log.warning(
                    "notification queue full: dropped %s for %s (%s)",
                    event.kind.value,
                    event.app,
                    receiver.name,
                )

    async def start(self) -> None:
        if not self._tasks and self.config.receivers:
            self._client = httpx.AsyncClient(
                transport=self._transport, timeout=self.config.delivery.timeout
            )
            self._tasks = [asyncio.create_task(self._worker(q)) for q in self._queues]

    async def stop(self) -> None:
        """Stop sending; undelivered jobs are dropped (they are not persisted)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tasks:
            await self._client.aclose()
        self._tasks = []

    async def _worker(self, queue: asyncio.Queue[_Job]) -> None:
        while True:
            job = await queue.get()
            try:
                self.outcomes.append(await self._deliver(job))
            except Exception:  # a bug here must not kill the worker
                log.exception("notification %s for %s failed", job.receiver.name, job.event.app)
            finally:
                queue.task_done()

    async def _deliver(self, job: _Job) -> Outcome:
        delivery: Delivery = self.config.delivery
        receiver, event = job.receiver, job.event
        error = ""
        for attempt in range(1, delivery.attempts + 1):
            request = request_for(receiver, event, job.delivery_id, self.clock.wall())
            if request is None:
                return Outcome(receiver.name, event.app, event.kind.value, False, 0, "no target")
            error, retry = await self._send(request)
            if not error:
                log.info("notified %s: %s of %s", receiver.name, event.kind.value, event.app)
                return Outcome(receiver.name, event.app, event.kind.value, True, attempt)
            if not retry or attempt == delivery.attempts:
                break
            wait = min(delivery.backoff * 2 ** (attempt - 1), delivery.max_backoff)
            log.warning(
                "notification %s of %s to %s failed (attempt %d of %d): %s; retrying in %.1fs",
                event.kind.value,
                event.app,
                receiver.name,
                attempt,
                delivery.attempts,
                error,
                wait,
            )
            await self._sleep(wait)
        log.error(
            "gave up notifying %s of %s (%s) after %d attempt(s): %s",
            receiver.name,
            event.app,
            event.kind.value,
            attempt,
            error,
        )
        return Outcome(receiver.name, event.app, event.kind.value, False, attempt, error)

    async def _send(self, request: Request) -> tuple[str, bool]:
        """``("", _)`` when delivered, else the reason and whether to retry."""
        try:
            response = await self._client.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        except httpx.TimeoutException:
            return f"timed out after {self.config.delivery.timeout:g}s", True
        except httpx.HTTPError as e:  # its text may name the URL: keep only the type
            return f"{type(e).__name__}", True
        if response.is_success:
            return "", False
        code = response.status_code
        return f"HTTP {code}", code >= 500 or code in _RETRY_STATUS
