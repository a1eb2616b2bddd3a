"""High availability in the store: who owns each app, and triggers queued for owners.

Only on PostgreSQL (``gitward serve --ha``). A replica *adopts* an app when hashing
gives it to it (:meth:`Ownership.adopt`), and *holds* the app's row for the length of
each sync (:meth:`Ownership.hold`): ``SELECT ... FOR UPDATE NOWAIT`` on ``app_owner``
inside a transaction kept open until the sync ends. A second writer therefore fails
at once instead of syncing the same app; a replica killed mid-sync loses its lock
with its connection. Taking an app from another replica is allowed only when that
replica is not live and the Lease it claimed the row under has expired; the row's
``epoch`` grows at each change of owner, and the syncs the previous owner left
Running are marked Interrupted in the same transaction (nothing can still be running
them: their owner held the lock while it ran them).

Triggers (webhooks, API calls) for apps another replica owns go to ``app_triggers``
with a ``NOTIFY``; the owner ``LISTEN``\\s and also polls, so none is lost while
PostgreSQL restarts. See docs/ha.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import delete, exc, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gitward.errors import NotOwnerError
from gitward.model.history import SyncResult
from gitward.ports import Clock
from gitward.store.codec import now
from gitward.store.errors import StoreError, translated
from gitward.store.migrate import current_revision, head_revision
from gitward.store.schema import app_owner, app_triggers, syncs
from gitward.store.urls import StoreTarget

log = logging.getLogger("gitward.ha")

TRIGGERS = "gitward_triggers"  # NOTIFY channel: payload is the app
MEMBERS = "gitward_members"  # NOTIFY channel: a replica left or joined; payload its id
_LOCK_NOT_AVAILABLE = "55P03"
RETRY = 0.5  # seconds before asking again for an app another replica is letting go

QueuedTrigger = tuple[str, str, str, str]  # app, trigger, actor, options ("": none)


@dataclass(frozen=True)
class Taken:
    """An app this replica now owns in the store."""

    epoch: int
    interrupted: tuple[int, ...] = ()  # syncs of the previous owner marked Interrupted now
    finish: bool = False  # the app's last sync was interrupted: the new owner finishes it


class Ownership:
    """The ``app_owner`` and ``app_triggers`` tables for one replica."""

    def __init__(self, target: StoreTarget, engine: AsyncEngine, clock: Clock, me: str) -> None:
        self._target = target
        self._engine = engine
        self._clock = clock
        self.me = me

    async def adopt(self, app: str, members: frozenset[str], expires: float) -> Taken:
        """Take ``app`` for this replica now (see :meth:`hold` for when it may)."""
        async with self._begin(f"adopt {app}") as conn:
            return await self._take(conn, app, members, expires)

    @asynccontextmanager
    async def hold(self, app: str, members: frozenset[str], expires: float) -> AsyncIterator[int]:
        """Own ``app`` for the block (a sync); yields the epoch. Raises NotOwnerError."""
        with translated(f"lock {app} for a sync", self._target.display):
            conn = await self._engine.connect()
        try:
            with translated(f"lock {app} for a sync", self._target.display):
                await conn.begin()
            taken = await self._take(conn, app, members, expires, insert=False)
            yield taken.epoch
        finally:
            try:
                await conn.commit()
            except exc.SQLAlchemyError as e:  # PostgreSQL went away mid-sync: the lock is gone
                log.warning("releasing the lock on %s failed: %s", app, " ".join(str(e).split()))
            await conn.close()

    async def release(self, keep: Collection[str] = ()) -> list[str]:
        """Let go of this replica's apps except ``keep``; returns those released.

        Rows locked by a sync in flight are skipped: they are released by a later call,
        once that sync has ended.
        """
        mine = select(app_owner.c.app).where(app_owner.c.replica == self.me)
        if keep:
            mine = mine.where(app_owner.c.app.not_in(sorted(keep)))
        locked = mine.with_for_update(skip_locked=True).scalar_subquery()
        async with self._begin("release apps") as conn:
            result = await conn.execute(
                delete(app_owner).where(app_owner.c.app.in_(locked)).returning(app_owner.c.app)
            )
            return sorted(result.scalars())

    async def owned(self) -> set[str]:
        """The apps the store gives this replica now."""
        mine = select(app_owner.c.app).where(app_owner.c.replica == self.me)
        async with self._begin("list this replica's apps") as conn:
            return set((await conn.execute(mine)).scalars())

    async def owners(self) -> dict[str, str]:
        """Every app's owner in the store, for tests, benchmarks and the CLI."""
        async with self._begin("list app owners") as conn:
            rows = await conn.execute(select(app_owner.c.app, app_owner.c.replica))
            return {row.app: row.replica for row in rows}

    # ---------------------------------------------------------------- triggers

    async def queue_triggers(self, triggers: Sequence[QueuedTrigger]) -> None:
        """Leave triggers (app, trigger, actor, options) for the owners of their apps, and
        wake them: one transaction and one NOTIFY per app, however many there are."""
        if not triggers:
            return
        at = self._now()
        rows = [
            {"app": a, "trigger": t, "actor": who, "options": o, "queued_at": at}
            for a, t, who, o in triggers
        ]
        apps = sorted({t[0] for t in triggers})
        what = f"queue {len(rows)} triggers for {len(apps)} apps"
        async with self._begin(what) as conn:
            await conn.execute(insert(app_triggers), rows)
            await conn.execute(
                text("SELECT pg_notify(:c, app) FROM unnest(CAST(:apps AS text[])) AS app"),
                {"c": TRIGGERS, "apps": apps},
            )

    async def take_triggers(self, apps: Iterable[str]) -> list[QueuedTrigger]:
        """The queued triggers of ``apps`` (app, trigger, actor, options), oldest first;
        removed."""
        wanted = sorted(apps)
        if not wanted:
            return []
        async with self._begin("take queued triggers") as conn:
            result = await conn.execute(
                delete(app_triggers)
                .where(app_triggers.c.app.in_(wanted))
                .returning(
                    app_triggers.c.id,
                    app_triggers.c.app,
                    app_triggers.c.trigger,
                    app_triggers.c.actor,
                    app_triggers.c.options,
                )
            )
            rows = sorted(result, key=lambda row: row.id)
            return [(row.app, row.trigger, row.actor, row.options) for row in rows]

    async def announce(self) -> None:
        """Tell the other replicas that the members changed (this one left or joined)."""
        async with self._begin("announce a member change") as conn:
            await conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": MEMBERS, "p": self.me})

    async def listen(self, on_notify: Callable[[str, str], None]) -> None:
        """Call ``on_notify(channel, payload)`` for each notification, until an error."""
        dsn = self._target.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                for channel in (TRIGGERS, MEMBERS):
                    await conn.execute(f"LISTEN {channel}".encode())
                async for note in conn.notifies():
                    on_notify(note.channel, note.payload)
        except psycopg.Error as e:
            raise StoreError(
                f"store: listening for notifications on {self._target.display} failed: "
                + " ".join(str(e).split()),
                hint="gitward listens again once PostgreSQL answers",
                transient=True,
            ) from e

    async def schema_problem(self) -> str:
        """Why this replica must not run on this database ("" when it may)."""
        async with self._begin("read the schema revision") as conn:
            current = await conn.run_sync(current_revision)
        head = head_revision()
        if current == head:
            return ""
        return (
            f"the store {self._target.display} is at schema revision {current!r} and this "
            f"gitward at {head!r}: replicas of different versions must not share a store; "
            "run the same version on every replica"
        )

    # ---------------------------------------------------------------- helpers

    async def _take(
        self,
        conn: AsyncConnection,
        app: str,
        members: frozenset[str],
        expires: float,
        *,
        insert: bool = True,
    ) -> Taken:
        at = self._now()
        row = await self._locked_row(conn, app)
        if row is None and not insert:
            # Only adopt inserts: a row inserted in a sync's long transaction would stay
            # unseen by the others, and their adopt's INSERT would wait for the whole sync.
            raise NotOwnerError(f"{app}: not taken over (no owner in the store)", retry_after=RETRY)
        until = datetime.fromtimestamp(expires, at.tzinfo)
        if row is not None and row.replica == self.me:
            await conn.execute(
                update(app_owner).where(app_owner.c.app == app).values(lease_expires_at=until)
            )
            return Taken(row.epoch, (), await _last_interrupted(conn, app))
        if row is not None:
            _may_take(app, row.replica, row.lease_expires_at, members, at)
        epoch = 1 if row is None else row.epoch + 1
        values = {"replica": self.me, "epoch": epoch, "lease_expires_at": until, "claimed_at": at}
        if row is None:
            await self._insert(conn, app, values)
        else:
            await conn.execute(update(app_owner).where(app_owner.c.app == app).values(values))
        interrupted = await self._interrupt_others(conn, app, at, row.replica if row else "")
        return Taken(epoch, interrupted, await _last_interrupted(conn, app))

    async def _locked_row(self, conn: AsyncConnection, app: str):  # type: ignore[no-untyped-def]
        query = select(app_owner).where(app_owner.c.app == app).with_for_update(nowait=True)
        try:
            with translated(f"lock {app}", self._target.display):
                return (await conn.execute(query)).first()
        except StoreError as e:
            if _LOCK_NOT_AVAILABLE in repr(e.__cause__) or "could not obtain lock" in e.message:
                raise NotOwnerError(
                    f"{app}: another replica is syncing it right now", retry_after=RETRY
                ) from e
            raise

    async def _insert(self, conn: AsyncConnection, app: str, values: dict[str, object]) -> None:
        try:
            async with conn.begin_nested():
                await conn.execute(insert(app_owner).values(app=app, **values))
        except exc.IntegrityError as e:  # another replica inserted it a moment ago
            raise NotOwnerError(
                f"{app}: another replica took it just now", retry_after=RETRY
            ) from e

    async def _interrupt_others(
        self, conn: AsyncConnection, app: str, at: datetime, previous: str
    ) -> tuple[int, ...]:
        who = f"replica {previous!r}" if previous else "a replica"
        result = await conn.execute(
            update(syncs)
            .where(
                syncs.c.app == app,
                syncs.c.result == SyncResult.RUNNING.value,
                syncs.c.owner != self.me,
            )
            .values(
                result=SyncResult.INTERRUPTED.value,
                finished_at=at,
                message=f"{who} stopped before this sync finished; {self.me!r} took the app over",
            )
            .returning(syncs.c.id)
        )
        return tuple(sorted(result.scalars()))

    def _now(self) -> datetime:
        return now(self._clock)

    @asynccontextmanager
    async def _begin(self, action: str) -> AsyncIterator[AsyncConnection]:
        with translated(action, self._target.display):
            async with self._engine.begin() as conn:
                yield conn


def _may_take(
    app: str, holder: str, holder_expires: datetime, members: frozenset[str], at: datetime
) -> None:
    """Refuse to take ``app`` from a replica that may still be syncing it."""
    if holder in members:
        raise NotOwnerError(
            f"{app}: replica {holder!r} still holds it and is live", retry_after=RETRY
        )
    if holder_expires > at:
        wait = (holder_expires - at) / timedelta(seconds=1)
        raise NotOwnerError(
            f"{app}: replica {holder!r} held it under a Lease valid for {wait:.1f}s more",
            retry_after=min(wait, 5.0),
        )


async def _last_interrupted(conn: AsyncConnection, app: str) -> bool:
    last = await conn.execute(
        select(syncs.c.result).where(syncs.c.app == app).order_by(syncs.c.id.desc()).limit(1)
    )
    return last.scalar() == SyncResult.INTERRUPTED.value
