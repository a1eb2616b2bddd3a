"""The store: what gitward remembers between reconciles and across restarts.

One class over SQLite (the default: one local file) and PostgreSQL (when replicas share
work), through SQLAlchemy Core on asyncio. The reconcile loop writes application
status and sync history; the API writes pins, suspensions and the audit log; the UI and
CLI read them back. Opening a store migrates its schema to the newest revision.

Callers mask secrets before anything reaches the store (diff summaries, messages, audit
details): it saves text exactly as given and never sees a plaintext secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gitward.errors import ConfigError
from gitward.model.history import (
    SYSTEM_ACTOR,
    AppStatus,
    AuditEntry,
    AuditOutcome,
    ObjectAction,
    Pin,
    SyncRecord,
    SyncResult,
    SyncTrigger,
)
from gitward.model.syncrequest import SyncRequest
from gitward.ports import Clock
from gitward.store import audit, status, syncs
from gitward.store.codec import dumps, now
from gitward.store.engine import create_engine, reader
from gitward.store.errors import StoreError, translated
from gitward.store.migrate import upgrade
from gitward.store.ownership import Ownership
from gitward.store.schema import syncs as syncs_table
from gitward.store.sqlite_file import check_writable
from gitward.store.urls import Backend, StoreTarget, parse_store_url

DEFAULT_OWNER = "local"  # the owner of syncs when one process runs alone
INTERRUPTED_MESSAGE = "the process running this sync stopped before it finished"


class Store:
    """Application status, sync history and the audit log; see the module docstring."""

    def __init__(self, target: StoreTarget, engine: AsyncEngine, clock: Clock, owner: str) -> None:
        self._target = target
        self._engine = engine
        self._reader = reader(engine)
        self._clock = clock
        self._closed = False
        self.owner = owner
        # Sync results whose write failed on a transient error (the database was down):
        # recorded before the next write, so no sync stays Running once it is back.
        self._unrecorded: dict[int, tuple[dict[str, Any], tuple[ObjectAction, ...]]] = {}
        self.problem = ""  # why the last access failed; "" once the database answers
        # SQLite has one writer at a time: this process's writers queue here, in order and
        # without a deadline, instead of racing for the file's lock, where a writer that
        # waits longer than the busy timeout (a loaded machine, many workers) fails with
        # "database is locked" and its status or history write is lost. The busy timeout
        # still covers other processes (the CLI) writing the same file.
        self._write_lock = asyncio.Lock() if target.backend is Backend.SQLITE else None

    @classmethod
    async def open(cls, url: str, clock: Clock, *, owner: str = DEFAULT_OWNER) -> Store:
        """Connect to ``url`` and migrate its schema.

        ``owner`` names this process among replicas (a stable name, such as the pod
        name): the syncs it starts carry it, and :meth:`mark_interrupted` finds them.
        """
        target = parse_store_url(url)
        if target.path is not None:
            check_writable(target.path)
        engine = create_engine(target)
        try:
            with translated("open and migrate the store", target.display):
                await upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(target, engine, clock, owner)

    async def close(self) -> None:
        """Release every connection; the store cannot be used afterwards."""
        self._closed = True
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def ownership(self) -> Ownership:
        """High availability on PostgreSQL: app owners and queued triggers (docs/ha.md)."""
        if self._target.backend is not Backend.POSTGRESQL:
            raise ConfigError(
                f"--ha needs a PostgreSQL store shared by every replica, not {self.location}",
                hint="pass --db postgresql://USER@HOST:PORT/DB",
            )
        return Ownership(self._target, self._engine, self._clock, self.owner)

    @property
    def location(self) -> str:
        """Where the data lives, for messages (PostgreSQL passwords hidden)."""
        return self._target.display

    # ----------------------------------------------------------- application status

    async def get_status(self, app: str) -> AppStatus | None:
        async with self._read(f"read the status of {app}") as conn:
            return await status.get(conn, app)

    async def list_status(self) -> list[AppStatus]:
        """Every application's status, by name."""
        async with self._read("list application status") as conn:
            return await status.list_all(conn)

    async def put_status(self, record: AppStatus) -> AppStatus:
        """Replace the observed status of ``record.app``; returns it as stored.

        ``pin`` and ``suspended`` in ``record`` are ignored (see :meth:`pin`,
        :meth:`set_suspended`), and so is ``last_sync_id``, which comes from history:
        a status computed before a person acted must not undo what they did.
        """
        async with self._write(f"save the status of {record.app}") as conn:
            await status.put(conn, record, now(self._clock))
            return await self._status_of(conn, record.app)

    async def delete_status(self, app: str) -> bool:
        """Forget ``app``'s status, pin and suspension; its history and audit stay."""
        async with self._write(f"delete the status of {app}") as conn:
            return await status.delete_app(conn, app)

    async def pin(
        self, app: str, sha: str, *, actor: str, reason: str = "", release_after: str | None = None
    ) -> AppStatus:
        """Hold ``app`` at commit ``sha`` (a rollback) until :meth:`unpin` — or, with
        ``release_after``, until its branch moves past that commit."""
        async with self._write(f"pin {app} to {sha}") as conn:
            at = now(self._clock)
            await status.ensure(conn, app, at)
            await status.set_pin(conn, app, Pin(sha, actor, at, reason, release_after))
            return await self._status_of(conn, app)

    async def unpin(self, app: str) -> Pin | None:
        """Release ``app``'s pin; returns the pin released, None if there was none."""
        async with self._write(f"unpin {app}") as conn:
            current = await status.get(conn, app)
            if current is None or current.pin is None:
                return None
            await status.set_pin(conn, app, None)
            return current.pin

    async def set_suspended(self, app: str, suspended: bool) -> AppStatus:
        """Suspend (or resume) automatic syncs of ``app``."""
        verb = "suspend" if suspended else "resume"
        async with self._write(f"{verb} {app}") as conn:
            await status.ensure(conn, app, now(self._clock))
            await status.set_suspended(conn, app, suspended)
            return await self._status_of(conn, app)

    # ------------------------------------------------------------------ sync history

    async def start_sync(
        self,
        app: str,
        *,
        requested: str,
        sha: str | None,
        trigger: SyncTrigger,
        actor: str = SYSTEM_ACTOR,
        repo_url: str = "",
        request: SyncRequest | None = None,
    ) -> int:
        """Record that a sync of ``app`` starts now (with a person's options, if any);
        returns its id (increasing)."""
        values = {
            "app": app,
            "repo_url": repo_url,
            "requested": requested,
            "sha": sha,
            "trigger": trigger.value,
            "actor": actor,
            "owner": self.owner,
            "started_at": now(self._clock),
            "options": (request or SyncRequest()).encode(),
        }
        async with self._write(f"record the start of a sync of {app}") as conn:
            return await syncs.start(conn, values)

    async def finish_sync(
        self,
        sync_id: int,
        result: SyncResult,
        *,
        message: str = "",
        actions: tuple[ObjectAction, ...] = (),
        diff_summary: str = "",
        sha: str | None = None,
    ) -> SyncRecord:
        """Complete a Running sync with its result, per-object actions and masked diff.

        ``sha`` fills in the commit when it was resolved after the sync started.
        """
        if result is SyncResult.RUNNING:
            raise ValueError("finish_sync needs a final result, not Running")
        values: dict[str, Any] = {
            "result": result.value,
            "finished_at": now(self._clock),
            "message": message,
            "diff_summary": diff_summary,
        }
        if sha is not None:
            values["sha"] = sha
        try:
            return await self._finish(sync_id, values, actions)
        except StoreError as e:
            if e.transient:  # keep it: the next write records it (see _record_late)
                self._unrecorded[sync_id] = (values, actions)
            raise

    async def _finish(
        self, sync_id: int, values: dict[str, Any], actions: tuple[ObjectAction, ...]
    ) -> SyncRecord:
        async with self._write(f"record the end of sync {sync_id}") as conn:
            if not await syncs.finish(conn, sync_id, values, actions):
                raise await self._not_running(conn, sync_id)
            return await self._sync_of(conn, sync_id)

    @property
    def unrecorded(self) -> int:
        """How many finished syncs wait to be written (the database was unavailable)."""
        return len(self._unrecorded)

    async def _record_late(self) -> None:
        """Write the results that could not be written when their syncs ended."""
        for sync_id, (values, actions) in sorted(self._unrecorded.items()):
            async with self._transaction(self._engine, f"record the end of sync {sync_id}") as c:
                await syncs.finish(c, sync_id, values, actions)  # False: already Interrupted
            # Two writers may replay the same result at once (each saw it before either
            # wrote it); the second finds it gone, which is what it wanted.
            self._unrecorded.pop(sync_id, None)

    async def get_sync(self, sync_id: int) -> SyncRecord | None:
        async with self._read(f"read sync {sync_id}") as conn:
            found = await syncs.load(conn, syncs.query().where(syncs_table.c.id == sync_id))
            return found[0] if found else None

    async def list_syncs(self, app: str | None = None, limit: int = 50) -> list[SyncRecord]:
        """The newest ``limit`` syncs (of ``app``, or of every app), newest first."""
        query = syncs.query().limit(limit)
        if app is not None:
            query = query.where(syncs_table.c.app == app)
        async with self._read("list sync history") as conn:
            return await syncs.load(conn, query)

    async def running_syncs(self, owner: str | None = None) -> list[SyncRecord]:
        """Syncs recorded as Running (of ``owner``, or of every owner)."""
        query = syncs.query().where(syncs_table.c.result == SyncResult.RUNNING.value)
        if owner is not None:
            query = query.where(syncs_table.c.owner == owner)
        async with self._read("list running syncs") as conn:
            return await syncs.load(conn, query)

    async def mark_interrupted(
        self, owner: str | None = None, *, message: str = INTERRUPTED_MESSAGE
    ) -> list[SyncRecord]:
        """Crash recovery: mark ``owner``'s Running syncs Interrupted; returns them.

        Call it at startup, before starting syncs. ``owner`` defaults to this store's
        own, so replicas never interrupt each other's syncs.
        """
        owner = self.owner if owner is None else owner
        async with self._write(f"mark the running syncs of {owner} interrupted") as conn:
            ids = await syncs.interrupt(conn, owner, now(self._clock), message)
            return await syncs.load(conn, syncs.query().where(syncs_table.c.id.in_(ids)))

    # --------------------------------------------------------------------- audit log

    async def audit(
        self,
        actor: str,
        action: str,
        target: str,
        *,
        outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
        app: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry to the audit log; ``details`` must be JSON and masked."""
        values = {
            "at": now(self._clock),
            "actor": actor,
            "action": action,
            "target": target,
            "app": app,
            "details": dumps(dict(details or {}), f"the details of audit action {action}"),
            "outcome": outcome.value,
        }
        async with self._write(f"append {action} on {target} to the audit log") as conn:
            entry = await audit.get(conn, await audit.append(conn, values))
        if entry is None:  # pragma: no cover - the row was just inserted
            raise StoreError(f"store: the audit entry for {action} vanished")
        return entry

    async def list_audit(self, limit: int = 100, app: str | None = None) -> list[AuditEntry]:
        """The newest ``limit`` audit entries (about ``app``, or all), newest first."""
        async with self._read("list the audit log") as conn:
            return await audit.newest(conn, limit, app)

    # ------------------------------------------------------------------------ helpers

    @asynccontextmanager
    async def _read(self, action: str) -> AsyncIterator[AsyncConnection]:
        async with self._transaction(self._reader, action) as conn:
            yield conn

    @asynccontextmanager
    async def _write(self, action: str) -> AsyncIterator[AsyncConnection]:
        if self._unrecorded:
            await self._record_late()
        async with self._transaction(self._engine, action) as conn:
            yield conn

    @asynccontextmanager
    async def _transaction(
        self, engine: AsyncEngine, action: str
    ) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError(f"store: cannot {action}: the store is closed")
        queue: AbstractAsyncContextManager[Any] = nullcontext()
        if engine is self._engine and self._write_lock is not None:
            queue = self._write_lock
        try:
            async with queue:
                with translated(action, self._target.display):
                    async with engine.begin() as conn:
                        yield conn
        except StoreError as e:
            if e.transient:
                self.problem = e.message
            raise
        self.problem = ""

    async def _status_of(self, conn: AsyncConnection, app: str) -> AppStatus:
        found = await status.get(conn, app)
        if found is None:  # pragma: no cover - written in the same transaction
            raise StoreError(f"store: the status of {app} vanished while being written")
        return found

    async def _sync_of(self, conn: AsyncConnection, sync_id: int) -> SyncRecord:
        found = await syncs.load(conn, syncs.query().where(syncs_table.c.id == sync_id))
        if not found:  # pragma: no cover - updated in the same transaction
            raise StoreError(f"store: sync {sync_id} vanished while being written")
        return found[0]

    async def _not_running(self, conn: AsyncConnection, sync_id: int) -> StoreError:
        found = await syncs.load(conn, syncs.query().where(syncs_table.c.id == sync_id))
        if not found:
            return StoreError(
                f"store: cannot finish sync {sync_id}: there is no such sync",
                hint="pass the id that start_sync returned",
            )
        return StoreError(
            f"store: cannot finish sync {sync_id} of {found[0].app}: it already ended "
            f"as {found[0].result}",
            hint="a sync marked Interrupted after a restart cannot be finished; start a new one",
        )
