"""Triggers for apps another replica owns, written to the store in batches.

A webhook or an API call may land on any replica; a trigger for an app this replica does
not own is left in the store for its owner, which a NOTIFY wakes. They come in bursts: a
cluster that answers again refreshes every app on every replica, a thousand triggers at
once. Written one transaction each, concurrently, they exhausted the store's connection
pool (15) for tens of seconds, and the replica's own loop and syncs timed out waiting
for a connection. Here one task writes them: everything waiting, up to ``BATCH``, in one
transaction, the same trigger for the same app, actor and options once.
"""

from __future__ import annotations

import asyncio
import logging

from gitward.errors import GitwardError
from gitward.ha.ports import Owners

log = logging.getLogger("gitward.ha")

BATCH = 500  # triggers in one transaction
ATTEMPTS = 12  # a store restarting: retried for about a minute, then dropped (logged)

Trigger = tuple[str, str, str, str]  # app, trigger, actor, options (SyncRequest.encode())


class Forwarder:
    """One task writing forwarded triggers, started by the first one."""

    def __init__(self, owners: Owners) -> None:
        self._owners = owners
        self._waiting: dict[Trigger, None] = {}  # in arrival order, each once
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def add(self, app: str, trigger: str, actor: str, options: str = "") -> None:
        """Queue a trigger for the owner of ``app``; written soon, in the background."""
        self._waiting[(app, trigger, actor, options)] = None
        self._wake.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ha-forward")

    async def close(self) -> None:
        """Write what still waits (a person's sync is not lost to a SIGTERM), then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while True:
            if not self._waiting:
                if self._closing:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            batch = list(self._waiting)[:BATCH]
            for trigger in batch:  # one that comes again meanwhile is written again
                del self._waiting[trigger]
            try:
                await self._write(batch)
            except GitwardError as e:
                log.error("forwarding %d triggers to their owners failed: %s", len(batch), e)  # noqa: TRY400 - a known failure
            except Exception:  # a bug must not stop forwarding for good; it is logged
                log.exception("forwarding %d triggers to their owners failed", len(batch))

    async def _write(self, batch: list[Trigger]) -> None:
        """Retried while the store is unreachable (restarting), up to about a minute."""
        for attempt in range(ATTEMPTS):
            try:
                await self._owners.queue_triggers(batch)
            except GitwardError as e:
                if not e.transient or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(min(2.0**attempt * 0.25, 8.0))
            else:
                return
