"""The audit log: who did what, to what, with which outcome. Append-only by design.

There is no update or delete here; retention, when it comes, will be a separate,
audited operation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gitward.model.history import AuditEntry, AuditOutcome
from gitward.store.codec import loads
from gitward.store.schema import audit_log


async def append(conn: AsyncConnection, values: dict[str, Any]) -> int:
    result = await conn.execute(insert(audit_log).values(values).returning(audit_log.c.id))
    return int(result.scalar_one())


async def get(conn: AsyncConnection, entry_id: int) -> AuditEntry | None:
    row = (await conn.execute(select(audit_log).where(audit_log.c.id == entry_id))).first()
    return _entry(row) if row else None


async def newest(conn: AsyncConnection, limit: int, app: str | None) -> list[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if app is not None:
        query = query.where(audit_log.c.app == app)
    return [_entry(row) for row in await conn.execute(query)]


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome=AuditOutcome(row.outcome),
        app=row.app,
        details=loads(row.details),
    )
