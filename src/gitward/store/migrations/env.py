"""Alembic's entry point, called by ``command.upgrade`` with an open connection.

gitward runs migrations itself (no ``alembic.ini``): the caller puts a synchronous
connection, already inside a transaction, into ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from gitward.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise TypeError("gitward's migrations run only through gitward.store.migrate")
_run(connection)
