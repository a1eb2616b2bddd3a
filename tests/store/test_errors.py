"""Errors say what failed and what to do; no database library's exception leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import GitwardError
from gitward.model.history import SyncTrigger
from gitward.store import Backend, Store, StoreError, parse_store_url
from tests.store.conftest import FakeClock
from tests.store.postgres import free_port


@pytest.mark.parametrize(
    ("url", "driver", "backend"),
    [
        ("sqlite:////var/lib/gitward/state.db", "sqlite+aiosqlite", Backend.SQLITE),
        ("sqlite+aiosqlite:////var/lib/gitward/state.db", "sqlite+aiosqlite", Backend.SQLITE),
        ("sqlite+pysqlite:////var/lib/gitward/state.db", "sqlite+aiosqlite", Backend.SQLITE),
        ("/var/lib/gitward/state.db", "sqlite+aiosqlite", Backend.SQLITE),
        ("sqlite://", "sqlite+aiosqlite", Backend.SQLITE),
        ("postgresql://gw@127.0.0.1:5432/gw", "postgresql+psycopg", Backend.POSTGRESQL),
        ("postgres://gw@127.0.0.1/gw", "postgresql+psycopg", Backend.POSTGRESQL),
        ("postgresql+psycopg2://gw@db/gw", "postgresql+psycopg", Backend.POSTGRESQL),
        ("postgresql+asyncpg://gw@db/gw", "postgresql+psycopg", Backend.POSTGRESQL),
    ],
)
def test_urls_are_normalised_to_the_async_drivers(url: str, driver: str, backend: Backend) -> None:
    target = parse_store_url(url)

    assert (target.url.drivername, target.backend) == (driver, backend)


def test_sqlite_paths_are_absolute_and_postgres_passwords_hidden() -> None:
    assert parse_store_url("sqlite:///state.db").path == Path("state.db").absolute()
    assert parse_store_url("sqlite://").path is None
    shown = parse_store_url("postgresql://gw:s3cret@db:5432/gw").display
    assert "s3cret" not in shown
    assert shown.startswith("postgresql+psycopg://gw:***@db:5432/gw")


@pytest.mark.parametrize("url", ["mysql://root@db/gw", "http://example", "no scheme://x"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError, match="store URL"):
        parse_store_url(url)


async def test_a_file_in_the_way_of_the_directory(tmp_path: Path, clock: FakeClock) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")

    with pytest.raises(StoreError) as caught:
        await Store.open(f"sqlite:///{blocker / 'gitward.db'}", clock)

    assert str(blocker) in str(caught.value)
    assert "cannot create the directory" in caught.value.message
    assert caught.value.hint is not None
    assert "writable" in caught.value.hint


async def test_a_directory_instead_of_a_file(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(StoreError, match="it is a directory") as caught:
        await Store.open(f"sqlite:///{tmp_path}", clock)
    assert str(tmp_path / "gitward.db") in str(caught.value.hint)


async def test_a_read_only_file_system(clock: FakeClock) -> None:
    # /proc refuses new files even to root, so this holds in CI (which runs as root).
    with pytest.raises(StoreError, match=r"cannot (write|create)") as caught:
        await Store.open("sqlite:////proc/gitward-test/gitward.db", clock)
    assert "/proc/gitward-test" in str(caught.value)


async def test_a_database_that_is_not_sqlite(tmp_path: Path, clock: FakeClock) -> None:
    garbage = tmp_path / "gitward.db"
    garbage.write_bytes(b"this is not a database, just bytes " * 200)

    with pytest.raises(StoreError, match=r"cannot open and migrate the store .*gitward\.db"):
        await Store.open(f"sqlite:///{garbage}", clock)


async def test_an_unreachable_postgres_is_transient(clock: FakeClock) -> None:
    url = f"postgresql://gitward@127.0.0.1:{free_port()}/gitward"

    with pytest.raises(StoreError) as caught:
        await Store.open(url, clock)

    error = caught.value
    assert isinstance(error, GitwardError)
    assert error.transient
    assert "127.0.0.1" in error.message
    assert error.hint is not None
    assert "is PostgreSQL running" in error.hint
    assert not isinstance(error.__cause__, StoreError)  # the driver error is kept as cause


async def test_a_closed_store_says_so(store: Store) -> None:
    await store.close()

    with pytest.raises(StoreError, match="the store is closed"):
        await store.list_status()


async def test_the_store_works_in_memory(clock: FakeClock) -> None:
    async with await Store.open("sqlite://", clock) as store:
        sync_id = await store.start_sync(
            "web", requested="main", sha=None, trigger=SyncTrigger.POLL
        )
        assert (await store.get_sync(sync_id)) is not None
