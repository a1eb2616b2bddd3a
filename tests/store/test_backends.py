"""Backend-specific settings the rest of the suite relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from gitward.store import Store, StoreError
from gitward.store.engine import create_engine
from gitward.store.urls import parse_store_url
from tests.store.conftest import FakeClock
from tests.store.postgres import PostgresServer


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'gitward.db'}"
    await (await Store.open(url, clock)).close()
    engine = create_engine(parse_store_url(url))
    try:
        async with engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            timeout = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()

    assert (journal, keys, timeout) == ("wal", 1, 10_000)


async def test_losing_postgres_mid_use_is_a_transient_store_error(
    postgres: PostgresServer, clock: FakeClock
) -> None:
    url = postgres.create_database()
    store = await Store.open(url, clock)
    try:
        await store.list_status()
        postgres.drop_database(url)

        with pytest.raises(StoreError, match="cannot list application status") as caught:
            await store.list_status()
        assert caught.value.transient
    finally:
        await store.close()
