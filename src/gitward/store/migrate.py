"""Bring a database to the newest schema at startup, with Alembic and no ``alembic.ini``.

Several replicas may start at once against one PostgreSQL database, so the upgrade
runs in one transaction under an advisory lock; on SQLite, ``BEGIN IMMEDIATE`` already
serialises it. DDL is transactional on both, so a failed upgrade leaves no half schema.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gitward.store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 0x67_77_61_72_64  # "gward": one advisory lock id for gitward's migrations


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of gitward knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    current = current_revision(connection)
    if current == head_revision():
        return
    if current is not None and not _known(current):
        raise StoreError(
            f"store: the database is at schema revision {current!r}, which this version of "
            "gitward does not know",
            hint="a newer gitward migrated it; run that version, or restore a backup",
        )
    command.upgrade(_config(connection), "head")


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every migration the database lacks, in one transaction."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
