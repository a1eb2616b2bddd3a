"""Fixtures for the store tests: a fake clock, and every test run on both backends.

``store_url`` is parametrized over SQLite (a file in the test's tmp dir) and a real
PostgreSQL (a fresh database per test in one server per session, see ``postgres.py``).
If PostgreSQL cannot start, the PostgreSQL half of the tests fails with the reason;
it is never skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitward.store import Store
from tests.store.postgres import PostgresServer

START = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = START) -> None:
        self._wall = start.timestamp()
        self._monotonic = 0.0

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def wall(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall, UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'gitward.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(store_url: str, clock: FakeClock) -> AsyncIterator[Store]:
    opened = await Store.open(store_url, clock)
    try:
        yield opened
    finally:
        await opened.close()
