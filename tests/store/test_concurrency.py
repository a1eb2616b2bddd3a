"""Many writers at once: none is lost, ids stay unique, nothing reports "locked"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gitward.model.history import AppStatus, SyncResult, SyncTrigger
from gitward.store import Store, engine
from tests.store.conftest import FakeClock

WRITERS = 40


async def one_sync(store: Store, n: int) -> int:
    app = f"app-{n % 4}"
    sync_id = await store.start_sync(app, requested="main", sha=None, trigger=SyncTrigger.WATCH)
    await store.put_status(AppStatus(app))
    await store.audit("gitward", "sync", app, app=app, details={"n": n})
    await store.finish_sync(sync_id, SyncResult.SUCCEEDED, message=str(n))
    return sync_id


async def test_concurrent_writers_lose_nothing(store: Store) -> None:
    ids = await asyncio.gather(*(one_sync(store, n) for n in range(WRITERS)))

    assert len(set(ids)) == WRITERS
    history = await store.list_syncs(limit=1000)
    assert sorted(s.id for s in history) == sorted(ids)
    assert {s.result for s in history} == {SyncResult.SUCCEEDED}
    assert sorted(int(s.message) for s in history) == list(range(WRITERS))
    assert len(await store.list_audit(limit=1000)) == WRITERS
    assert [s.app for s in await store.list_status()] == [f"app-{n}" for n in range(4)]


async def test_two_processes_worth_of_stores_share_one_database(
    store: Store, store_url: str
) -> None:
    other = await Store.open(store_url, FakeClock(), owner="replica-1")
    try:
        await asyncio.gather(
            *(one_sync(store, n) for n in range(10)),
            *(one_sync(other, n) for n in range(10, 20)),
        )
        assert len(await store.list_syncs(limit=100)) == 20
        assert len(await other.list_audit(limit=100)) == 20
    finally:
        await other.close()


async def test_sqlite_writers_of_one_process_queue_instead_of_timing_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy timeout of 1 ms stands in for a loaded machine where a writer waits longer
    than the timeout for SQLite's lock: the store's own writers still all get through,
    because they queue in the process rather than race for the file's lock."""
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 1)
    monkeypatch.setattr(
        engine, "_SQLITE_PRAGMAS", (*engine._SQLITE_PRAGMAS[:3], "PRAGMA busy_timeout=1")
    )
    store = await Store.open(f"sqlite:///{tmp_path / 'busy.db'}", FakeClock())
    try:
        ids = await asyncio.gather(*(one_sync(store, n) for n in range(WRITERS * 3)))
        assert len(set(ids)) == WRITERS * 3
        assert len(await store.list_syncs(limit=1000)) == WRITERS * 3
    finally:
        await store.close()
