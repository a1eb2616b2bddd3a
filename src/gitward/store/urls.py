"""Store URLs as people write them, turned into the async drivers the store runs on.

People write ``sqlite:///path/gitward.db``, a bare file path, or
``postgresql://user@host:5432/db``; the store always runs on aiosqlite or psycopg 3
(async), whatever driver the URL names, so one code path serves both databases.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from gitward.store.errors import StoreError

_SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_NAMES = ("postgres", "postgresql")


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class StoreTarget:
    """Where the store lives: the async URL, the backend and, for SQLite, the file."""

    url: URL
    backend: Backend
    path: Path | None = None  # the SQLite file; None for PostgreSQL and in-memory

    @property
    def display(self) -> str:
        """The URL for messages and logs, without the password."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)


def parse_store_url(text: str) -> StoreTarget:
    """Parse a store URL (or a bare SQLite file path) into a :class:`StoreTarget`."""
    if "://" not in text:
        return _sqlite(make_url(f"{_SQLITE_DRIVER}:///"), text)
    try:
        url = make_url(text)
    except ArgumentError as error:
        raise StoreError(
            f"store: cannot parse the store URL {text!r}: {error}",
            hint="write sqlite:///path/to/gitward.db or postgresql://user@host:5432/dbname",
        ) from error
    name = url.get_backend_name()
    if name == "sqlite":
        return _sqlite(url, url.database or "")
    if name in _POSTGRES_NAMES:
        return StoreTarget(url.set(drivername=_POSTGRES_DRIVER), Backend.POSTGRESQL)
    raise StoreError(
        f"store: unsupported database {name!r} in the store URL",
        hint="gitward stores its state in SQLite (sqlite:///file.db) or PostgreSQL "
        "(postgresql://user@host:5432/dbname)",
    )


def _sqlite(url: URL, database: str) -> StoreTarget:
    if database in ("", ":memory:"):
        return StoreTarget(url.set(drivername=_SQLITE_DRIVER, database=":memory:"), Backend.SQLITE)
    path = Path(database).expanduser().absolute()
    return StoreTarget(url.set(drivername=_SQLITE_DRIVER, database=str(path)), Backend.SQLITE, path)
