"""Async engines for SQLite and PostgreSQL, configured so both behave alike.

SQLite needs the most care: WAL so readers never block the writer, foreign keys on
(SQLite leaves them off), a busy timeout so concurrent writers wait instead of failing,
and ``BEGIN IMMEDIATE`` for every writing transaction so that it takes the write lock
up front rather than failing with "database is locked" when it upgrades from reading to
writing. pysqlite's own transaction handling is turned off so that the store, not the
driver, decides when transactions begin.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from gitward.store.urls import Backend, StoreTarget

READ_ONLY = "gitward_read_only"  # execution option: begin SQLite transactions deferred
BUSY_TIMEOUT_MS = 10_000
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
)


def create_engine(target: StoreTarget) -> AsyncEngine:
    """An engine for ``target``; connections are opened lazily, on first use."""
    if target.backend is Backend.POSTGRESQL:
        return create_async_engine(target.url, pool_pre_ping=True)
    if target.path is None:  # in memory: one shared connection, or each sees an empty DB
        engine = create_async_engine(target.url, poolclass=StaticPool)
    else:
        engine = create_async_engine(target.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the "begin" hook below starts transactions
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def reader(engine: AsyncEngine) -> AsyncEngine:
    """The same engine for read-only transactions: on SQLite they take no write lock."""
    return engine.execution_options(**{READ_ONLY: True})
