"""Every timestamp comes from the injected clock, exactly, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gitward.model.history import AppStatus, SyncResult, SyncTrigger
from gitward.store import Store
from tests.store.conftest import FakeClock


async def test_timestamps_are_the_clock_readings(store: Store, clock: FakeClock) -> None:
    start = clock.now
    status = await store.put_status(AppStatus("web"))
    sync_id = await store.start_sync("web", requested="main", sha=None, trigger=SyncTrigger.POLL)
    clock.advance(90.25)
    done = await store.finish_sync(sync_id, SyncResult.SUCCEEDED)
    clock.advance(0.5)
    pinned = await store.pin("web", "f" * 40, actor="alice")
    entry = await store.audit("alice", "rollback", "web")

    assert start == datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert status.updated_at == start
    assert done.started_at == start
    assert done.finished_at == start + timedelta(seconds=90.25)
    assert pinned.pin is not None
    assert pinned.pin.at == entry.at == start + timedelta(seconds=90.75)
    for stamp in (status.updated_at, done.started_at, done.finished_at, entry.at):
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
