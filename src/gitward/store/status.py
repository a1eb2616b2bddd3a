"""Application status: the loop's observations joined with people's decisions.

``app_status`` rows are replaced whole by :func:`put`; ``app_controls`` rows (pin,
suspension) change only through :func:`set_pin` and :func:`set_suspended`. The id of
the latest sync is derived from history when read, so it can never be stale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gitward.model.health import Health, HealthStatus
from gitward.model.history import AppStatus, Condition, Pin, SyncState
from gitward.model.revision import Revision
from gitward.store.codec import dumps, loads
from gitward.store.schema import app_controls, app_status, syncs

_NO_CONTROLS: dict[str, Any] = {
    "suspended": False,
    "pin_sha": None,
    "pin_by": None,
    "pin_at": None,
    "pin_reason": "",
    "pin_release_after": None,
}


def _query() -> Select[Any]:
    last_sync = (
        select(func.max(syncs.c.id)).where(syncs.c.app == app_status.c.app).scalar_subquery()
    )
    return (
        select(app_status, app_controls, last_sync.label("last_sync_id"))
        .outerjoin(app_controls, app_controls.c.app == app_status.c.app)
        .order_by(app_status.c.app)
    )


def _from_row(row: Row[Any]) -> AppStatus:
    m = row._mapping
    wanted = None
    if m["wanted_sha"] is not None:
        wanted = Revision(m["wanted_repo_url"] or "", m["wanted_requested"] or "", m["wanted_sha"])
    pin = None
    if m["pin_sha"] is not None:
        pin = Pin(
            m["pin_sha"],
            m["pin_by"] or "",
            m["pin_at"],
            m["pin_reason"] or "",
            m["pin_release_after"],
        )
    return AppStatus(
        app=m[app_status.c.app],
        sync_state=SyncState(m["sync_state"]),
        health=Health(HealthStatus(m["health_status"]), m["health_message"]),
        live_sha=m["live_sha"],
        wanted=wanted,
        pin=pin,
        suspended=bool(m["suspended"]),
        conditions=tuple(Condition(**c) for c in loads(m["conditions"])),
        last_sync_id=m["last_sync_id"],
        updated_at=m["updated_at"],
    )


def _values(status: AppStatus, at: datetime) -> dict[str, Any]:
    wanted = status.wanted
    return {
        "app": status.app,
        "sync_state": status.sync_state.value,
        "health_status": status.health.status.value,
        "health_message": status.health.message,
        "live_sha": status.live_sha,
        "wanted_repo_url": wanted.repo_url if wanted else None,
        "wanted_requested": wanted.requested if wanted else None,
        "wanted_sha": wanted.sha if wanted else None,
        "conditions": dumps(
            [{"type": c.type, "status": c.status, "message": c.message} for c in status.conditions],
            f"the conditions of {status.app}",
        ),
        "updated_at": at,
    }


async def _upsert(
    conn: AsyncConnection, table: Table, values: dict[str, Any], *, update: tuple[str, ...] | None
) -> None:
    """Insert a row, or on a key clash update ``update`` (all columns if None, none if ()).

    Both dialects spell it ``INSERT ... ON CONFLICT``; only the construct's module differs.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(values)
    names = tuple(values) if update is None else update
    changes = {name: stmt.excluded[name] for name in names if name != "app"}
    if changes:
        await conn.execute(stmt.on_conflict_do_update(index_elements=["app"], set_=changes))
    else:
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=["app"]))


async def get(conn: AsyncConnection, app: str) -> AppStatus | None:
    row = (await conn.execute(_query().where(app_status.c.app == app))).first()
    return _from_row(row) if row else None


async def list_all(conn: AsyncConnection) -> list[AppStatus]:
    return [_from_row(row) for row in await conn.execute(_query())]


async def put(conn: AsyncConnection, status: AppStatus, at: datetime) -> None:
    await _upsert(conn, app_status, _values(status, at), update=None)


async def ensure(conn: AsyncConnection, app: str, at: datetime) -> None:
    """Create an Unknown status for ``app`` if it has none, so controls can refer to it."""
    await _upsert(conn, app_status, _values(AppStatus(app), at), update=())


async def delete_app(conn: AsyncConnection, app: str) -> bool:
    result = await conn.execute(delete(app_status).where(app_status.c.app == app))
    return bool(result.rowcount)


async def set_pin(conn: AsyncConnection, app: str, pin: Pin | None) -> None:
    values = {
        **_NO_CONTROLS,
        "app": app,
        "pin_sha": pin.sha if pin else None,
        "pin_by": pin.by if pin else None,
        "pin_at": pin.at if pin else None,
        "pin_reason": pin.reason if pin else "",
        "pin_release_after": pin.release_after if pin else None,
    }
    await _upsert(
        conn,
        app_controls,
        values,
        update=("pin_sha", "pin_by", "pin_at", "pin_reason", "pin_release_after"),
    )


async def set_suspended(conn: AsyncConnection, app: str, suspended: bool) -> None:
    values = {**_NO_CONTROLS, "app": app, "suspended": suspended}
    await _upsert(conn, app_controls, values, update=("suspended",))
