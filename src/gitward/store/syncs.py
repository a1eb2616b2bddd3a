"""Sync history: one row per attempt, written at its start and completed at its end.

Writing the row before any change reaches a cluster is what makes crashes visible: a
process killed mid-sync leaves a ``Running`` row behind, and the next start of the
same owner marks it ``Interrupted`` (:func:`mark_interrupted`). Per-object actions are
rows of their own so that "which syncs touched this object" stays a query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gitward.model.history import ObjectAction, SyncRecord, SyncResult, SyncTrigger
from gitward.model.plan import Outcome
from gitward.model.resource import ResourceKey
from gitward.model.syncrequest import SyncRequest
from gitward.store.schema import sync_actions, syncs


async def start(conn: AsyncConnection, values: dict[str, Any]) -> int:
    """Insert a Running row; ``values`` are its columns. Returns the new id."""
    row = {**values, "result": SyncResult.RUNNING.value, "message": "", "diff_summary": ""}
    result = await conn.execute(insert(syncs).values(row).returning(syncs.c.id))
    return int(result.scalar_one())


async def finish(
    conn: AsyncConnection,
    sync_id: int,
    values: dict[str, Any],
    actions: tuple[ObjectAction, ...],
) -> bool:
    """Complete a Running sync; False if no Running sync has this id."""
    result = await conn.execute(
        update(syncs)
        .where(syncs.c.id == sync_id, syncs.c.result == SyncResult.RUNNING.value)
        .values(values)
    )
    if not result.rowcount:
        return False
    if actions:
        await conn.execute(insert(sync_actions), _action_rows(sync_id, actions))
    return True


async def interrupt(conn: AsyncConnection, owner: str, at: datetime, message: str) -> list[int]:
    """Mark the Running syncs of ``owner`` Interrupted; returns their ids.

    One ``UPDATE ... RETURNING``: a sync that finishes at the same moment is either
    finished or interrupted, never reported as both.
    """
    result = await conn.execute(
        update(syncs)
        .where(syncs.c.result == SyncResult.RUNNING.value, syncs.c.owner == owner)
        .values(result=SyncResult.INTERRUPTED.value, finished_at=at, message=message)
        .returning(syncs.c.id)
    )
    return sorted(result.scalars())


async def load(conn: AsyncConnection, query: Select[Any]) -> list[SyncRecord]:
    """The syncs ``query`` selects (from ``syncs``), each with its actions."""
    rows = list(await conn.execute(query))
    actions = await _actions(conn, [row.id for row in rows])
    return [_record(row, actions.get(row.id, ())) for row in rows]


def query() -> Select[Any]:
    """All syncs, newest first; narrow it with ``.where`` and ``.limit``."""
    return select(syncs).order_by(syncs.c.id.desc())


async def _actions(conn: AsyncConnection, ids: list[int]) -> dict[int, tuple[ObjectAction, ...]]:
    if not ids:
        return {}
    found: dict[int, list[ObjectAction]] = {}
    rows = await conn.execute(
        select(sync_actions)
        .where(sync_actions.c.sync_id.in_(ids))
        .order_by(sync_actions.c.sync_id, sync_actions.c.seq)
    )
    for row in rows:
        key = ResourceKey(row.api_group, row.kind, row.namespace, row.name)
        found.setdefault(row.sync_id, []).append(
            ObjectAction(key, Outcome(row.outcome), row.message)
        )
    return {sync_id: tuple(items) for sync_id, items in found.items()}


def _action_rows(sync_id: int, actions: Iterable[ObjectAction]) -> list[dict[str, Any]]:
    return [
        {
            "sync_id": sync_id,
            "seq": seq,
            "api_group": action.key.group,
            "kind": action.key.kind,
            "namespace": action.key.namespace,
            "name": action.key.name,
            "outcome": action.outcome.value,
            "message": action.message,
        }
        for seq, action in enumerate(actions)
    ]


def _record(row: Row[Any], actions: tuple[ObjectAction, ...]) -> SyncRecord:
    return SyncRecord(
        id=row.id,
        app=row.app,
        repo_url=row.repo_url,
        requested=row.requested,
        sha=row.sha,
        trigger=SyncTrigger(row.trigger),
        actor=row.actor,
        owner=row.owner,
        started_at=row.started_at,
        finished_at=row.finished_at,
        result=SyncResult(row.result),
        message=row.message,
        actions=actions,
        diff_summary=row.diff_summary,
        request=SyncRequest.decode(row.options),
    )
