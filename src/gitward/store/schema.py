"""The store's tables, as SQLAlchemy Core metadata shared by queries and migrations.

Observations (``app_status``, written by the reconcile loop) and decisions
(``app_controls``: pins and suspension, written by people) live in separate tables so
that a status write never undoes a pin made a moment earlier. Sync history keeps one
row per attempt plus one row per object it touched; the audit log is append-only.
Identifiers are autoincrementing and never reused, so they order history by start.

Migrations (``migrations/versions``) create exactly these tables; a test checks that
the migrated schema and this metadata agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

SHA = 64  # SHA-256 object names are 64 hex digits; SHA-1 are 40
NAME = 253  # a Kubernetes DNS subdomain name
ENUM = 32  # enum values are stored as their text


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC ``datetime`` on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as
    naive UTC and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite makes only "INTEGER PRIMARY KEY" an alias of the rowid.
_ID = BigInteger().with_variant(Integer, "sqlite")


def _id() -> Column[int]:
    return Column("id", _ID, primary_key=True)


metadata = MetaData()

app_status = Table(
    "app_status",
    metadata,
    Column("app", String(NAME), primary_key=True),
    Column("sync_state", String(ENUM), nullable=False),
    Column("health_status", String(ENUM), nullable=False),
    Column("health_message", Text, nullable=False),
    Column("live_sha", String(SHA)),
    Column("wanted_repo_url", Text),
    Column("wanted_requested", Text),
    Column("wanted_sha", String(SHA)),
    Column("conditions", Text, nullable=False),  # JSON list of {type, status, message}
    Column("updated_at", UtcDateTime, nullable=False),
)

app_controls = Table(
    "app_controls",
    metadata,
    Column("app", String(NAME), ForeignKey("app_status.app", ondelete="CASCADE"), primary_key=True),
    Column("suspended", Boolean, nullable=False),
    Column("pin_sha", String(SHA)),
    Column("pin_by", Text),
    Column("pin_at", UtcDateTime),
    Column("pin_reason", Text, nullable=False),
    # With a pin that the next commit releases: the branch head when the pin was made.
    Column("pin_release_after", String(SHA)),
)

syncs = Table(
    "syncs",
    metadata,
    _id(),
    Column("app", String(NAME), nullable=False),
    Column("repo_url", Text, nullable=False),
    Column("requested", Text, nullable=False),
    Column("sha", String(SHA)),
    Column("trigger", String(ENUM), nullable=False),
    Column("actor", Text, nullable=False),
    Column("owner", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("result", String(ENUM), nullable=False),
    Column("message", Text, nullable=False),
    Column("diff_summary", Text, nullable=False),
    Column("options", Text, nullable=False, server_default=""),  # a SyncRequest, encoded
    Index("ix_syncs_app_id", "app", "id"),
    Index("ix_syncs_result_owner", "result", "owner"),
    sqlite_autoincrement=True,
)

sync_actions = Table(
    "sync_actions",
    metadata,
    Column("sync_id", _ID, ForeignKey("syncs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("api_group", String(NAME), nullable=False),
    Column("kind", String(NAME), nullable=False),
    Column("namespace", String(NAME), nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("outcome", String(ENUM), nullable=False),
    Column("message", Text, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(NAME), nullable=False),
    Column("target", Text, nullable=False),
    Column("app", String(NAME)),
    Column("details", Text, nullable=False),  # JSON object
    Column("outcome", String(ENUM), nullable=False),
    Index("ix_audit_log_app_id", "app", "id"),
    sqlite_autoincrement=True,
)

# High availability (docs/ha.md). One row per app a replica has taken: the row lock is
# held for the length of each sync, ``epoch`` grows at every change of owner, and
# ``lease_expires_at`` says until when the owner's Lease was valid when it last claimed.
app_owner = Table(
    "app_owner",
    metadata,
    Column("app", String(NAME), primary_key=True),
    Column("replica", Text, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("lease_expires_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
)

# Webhooks and API calls that reached a replica not owning the app, for the owner.
app_triggers = Table(
    "app_triggers",
    metadata,
    _id(),
    Column("app", String(NAME), nullable=False),
    Column("trigger", String(ENUM), nullable=False),
    Column("actor", Text, nullable=False),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("options", Text, nullable=False, server_default=""),  # SyncRequest.encode()
    Index("ix_app_triggers_app", "app"),
    sqlite_autoincrement=True,
)
