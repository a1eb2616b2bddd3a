"""Schema migrations: from an empty database, idempotent on reopen, data kept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from gitward.model.history import AppStatus, SyncResult, SyncTrigger
from gitward.store import Store, StoreError, parse_store_url
from gitward.store.migrate import head_revision
from gitward.store.schema import metadata
from tests.store.conftest import FakeClock

TABLES = {
    "alembic_version",
    "app_status",
    "app_controls",
    "syncs",
    "sync_actions",
    "audit_log",
    "app_owner",
    "app_triggers",
}


async def on_database(url: str, work: Any) -> Any:
    """Run ``work(sync_connection)`` directly on the database, bypassing the store."""
    engine = create_async_engine(parse_store_url(url).url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def schema_facts(conn: Connection) -> tuple[set[str], str | None, list[Any]]:
    tables = set(inspect(conn).get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision()
    differences = compare_metadata(MigrationContext.configure(conn), metadata)
    return tables, revision, differences


async def test_an_empty_database_is_migrated_to_the_schema(
    store_url: str, clock: FakeClock
) -> None:
    await (await Store.open(store_url, clock)).close()

    tables, revision, differences = await on_database(store_url, schema_facts)

    assert tables == TABLES
    assert revision == head_revision()
    assert differences == []


async def test_reopening_keeps_data_and_migrates_nothing(store_url: str, clock: FakeClock) -> None:
    first = await Store.open(store_url, clock)
    await first.put_status(AppStatus("web"))
    sync_id = await first.start_sync("web", requested="main", sha=None, trigger=SyncTrigger.POLL)
    await first.finish_sync(sync_id, SyncResult.SUCCEEDED)
    await first.audit("alice", "sync", "web", app="web")
    await first.close()

    second = await Store.open(store_url, clock)
    try:
        assert [s.app for s in await second.list_status()] == ["web"]
        assert [s.id for s in await second.list_syncs("web")] == [sync_id]
        assert len(await second.list_audit()) == 1
    finally:
        await second.close()


async def test_replicas_starting_together_migrate_once(store_url: str, clock: FakeClock) -> None:
    stores = await asyncio.gather(*(Store.open(store_url, clock) for _ in range(4)))
    for opened in stores:
        await opened.close()

    _, revision, differences = await on_database(store_url, schema_facts)
    assert revision == head_revision()
    assert differences == []


async def test_a_database_from_a_newer_gitward_is_refused(store_url: str, clock: FakeClock) -> None:
    await (await Store.open(store_url, clock)).close()

    def future(conn: Connection) -> None:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    await on_database(store_url, future)

    with pytest.raises(StoreError, match="schema revision '9999'") as caught:
        await Store.open(store_url, clock)
    assert caught.value.hint is not None
    assert "newer gitward" in caught.value.hint
