"""A real crash: a child process starts a sync and is killed with SIGKILL mid-sync."""

from __future__ import annotations

import asyncio
import signal
import sys

from gitward.model.history import SyncResult
from gitward.store import Store
from tests.store.conftest import FakeClock

CHILD = """
import asyncio, os, signal, sys
from gitward.model.history import SyncTrigger
from gitward.ports import SystemClock
from gitward.store import Store

async def main() -> None:
    store = await Store.open(sys.argv[1], SystemClock(), owner="replica-0")
    await store.start_sync("web", requested="main", sha=None, trigger=SyncTrigger.WEBHOOK)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_a_killed_process_leaves_a_sync_to_interrupt(
    store_url: str, clock: FakeClock
) -> None:
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", CHILD, store_url)
    assert await asyncio.wait_for(child.wait(), timeout=60) == -signal.SIGKILL

    async with await Store.open(store_url, clock, owner="replica-0") as restarted:
        [left] = await restarted.running_syncs()
        [marked] = await restarted.mark_interrupted()

        assert marked.id == left.id
        assert marked.result is SyncResult.INTERRUPTED
        assert marked.finished_at == clock.now
        assert marked.owner == "replica-0"
