"""One replica among several: its Lease, the apps it owns, and the fence before a sync.

The loop, in order: renew this replica's Lease (every third of its duration); list the
replica Leases and keep the live ones as members; give each app to its owner by
rendezvous hashing (:mod:`.assign`); let go of the apps that moved away (once their
sync in flight, if any, has ended) and adopt those that moved here (the store marks
syncs their previous owner left running Interrupted, and this replica finishes them);
hand over triggers other replicas queued. It wakes early for a notification from
PostgreSQL (a trigger, a replica leaving) and exactly when a member's Lease would
expire, so a replica killed with ``kill -9`` is replaced about one Lease duration
after its last renewal, and one stopped with SIGTERM at once.

Before a sync, :meth:`Replica.fence` checks the Lease is still this replica's (read
again from the API server) and unexpired, that hashing still gives the app here, and
holds the app's row in the store until the sync ends. See docs/ha.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from gitward.errors import ConfigError, GitwardError, KubeError, NotOwnerError
from gitward.ha import assign, lease
from gitward.ha.forward import Forwarder
from gitward.ha.heartbeat import LeaseHolder
from gitward.ha.ports import Leases, Owners
from gitward.ha.settings import HaSettings, Hooks, Note
from gitward.ports import Clock

__all__ = ["HaSettings", "Hooks", "Replica"]

log = logging.getLogger("gitward.ha")

RETRY = 0.5  # seconds: adopt or release again (another replica is letting go)
LISTEN_BACKOFF = 1.0
ADOPT_AT_ONCE = 8  # apps taken over concurrently (the store's pool holds 15 connections)


class Replica:
    def __init__(
        self,
        settings: HaSettings,
        leases: Callable[[], Leases],
        owners: Owners,
        clock: Clock,
        hooks: Hooks,
    ) -> None:
        self.settings = settings
        self.me = settings.replica_id
        self._make_leases = leases  # one for this loop, one for the Lease thread
        self._leases = leases()
        self._owners = owners
        self._forwarder = Forwarder(owners)
        self._clock = clock
        self._hooks = hooks
        self.members: frozenset[str] = frozenset()
        self.adopted: set[str] = set()
        self.lease = LeaseHolder(
            self.me, settings.namespace, settings.lease_duration, clock, self._lost_elsewhere
        )
        self._main: asyncio.AbstractEventLoop | None = None
        self._checked = float("-inf")  # monotonic: the schema and members, last read
        self._next_expiry: float | None = None  # wall: a member's Lease may expire then
        self._stopping = False
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._wake = asyncio.Event()
        self._refresh_due = True
        self._triggers_due = True
        self._tasks: list[asyncio.Task[None]] = []
        self._inbox: list[Note] = []  # what the controller must still hear, oldest first
        self._schema = ""  # why the store's schema forbids this replica to sync, if it does
        self._waiting = ""  # why the first app not yet taken over is not, as last logged

    # ------------------------------------------------------------------ questions

    def valid(self) -> bool:
        return self.lease.valid() and not self._schema

    @property
    def problem(self) -> str:
        """Why this replica syncs nothing now, for ``/readyz`` (503); "" once its Lease is
        renewed again and the schema matches, even if it owns no app (it takes its share)."""
        stopping = f"replica {self.me} is stopping" if self._stopping else ""
        return stopping or self._schema or self.lease.why_not()

    def owns(self, app: str) -> bool:
        """True if this replica should reconcile ``app`` now."""
        return (
            not self._stopping
            and self.valid()
            and app in self.adopted
            and self._owner(app, self.members) == self.me
        )

    @asynccontextmanager
    async def fence(self, app: str) -> AsyncIterator[int]:
        """Hold ``app`` for one sync; raises NotOwnerError when this replica may not."""
        if self._stopping or self._schema:
            raise NotOwnerError(f"{app}: {self.problem}")
        if self._owner(app, self.members) != self.me:
            raise NotOwnerError(f"{app}: the app belongs to another replica now")
        await self._check_lease()
        if app not in self.adopted:
            raise NotOwnerError(f"{app}: not taken over yet", retry_after=RETRY)
        self._active += 1
        self._idle.clear()
        try:
            async with self._owners.hold(app, self.members, self.lease.expires) as epoch:
                yield epoch
        except NotOwnerError:
            self.adopted.discard(app)  # the store says otherwise: the loop adopts it again
            self._wake.set()
            raise
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def _check_lease(self) -> None:
        """The Lease as the API server has it now: held by this replica, not expired."""
        try:
            current = await self._leases.get(lease.lease_name(self.me))
        except KubeError as e:
            raise NotOwnerError(
                f"cannot read this replica's Lease: {e.message}", retry_after=RETRY
            ) from e
        why = lease.taken_from([current] if current else [], self.me)
        if why or current is None:
            self._lost(why)
            raise NotOwnerError(f"replica {self.me!r}: {why}")
        if not current.live(self._clock.wall()) or not self.valid():
            self.lease.renew_soon()  # the others may take the apps meanwhile
            raise NotOwnerError(f"replica {self.me!r}: its Lease expired", retry_after=RETRY)

    def forward(self, app: str, trigger: str, actor: str, options: str = "") -> None:
        """Queue a trigger for the owner of ``app`` (an API call or a webhook landed here)."""
        self._forwarder.add(app, trigger, actor, options)

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Refuse a store of another schema, take this replica's Lease, start the loop."""
        problem = await self._owners.schema_problem()
        if problem:
            raise ConfigError(problem, hint="upgrade or roll back this replica to match the store")
        self._main = asyncio.get_running_loop()
        await self.lease.renew(self._leases)
        self.lease.start(self._make_leases)
        await self._refresh()
        await self._owners.announce()
        self._tasks.append(asyncio.create_task(self._loop(), name="ha-loop"))
        self._tasks.append(asyncio.create_task(self._listen(), name="ha-listen"))

    async def drain(self) -> None:
        """SIGTERM: take no more work; wait (up to the grace period) for syncs in flight."""
        self._stopping = True
        try:
            async with asyncio.timeout(self.settings.grace):
                await self._idle.wait()
        except TimeoutError:
            log.warning(
                "%d syncs still running after %ss; they are interrupted",
                self._active,
                self.settings.grace,
            )

    async def leave(self) -> None:
        """SIGTERM, first: stop renewing, delete the Lease and release every app no sync
        holds, so that the others take those over while the syncs in flight finish
        (their rows stay locked in the store until then: never two writers)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.lease.stop)
        try:
            released = await self._owners.release(keep=())  # not those syncs hold yet
            what = "apps whose syncs ended"
            if await self._give_up_lease():
                what = f"apps and Lease {self.lease.name}"
            log.info("released %d %s", len(released), what)
        except GitwardError as e:
            log.warning("could not release the Lease; the others take over when it expires: %s", e)

    async def stop(self) -> None:
        """Release the apps syncs held at :meth:`leave` (it runs first if it did not)."""
        await self.leave()
        try:
            await self._forwarder.close()
        finally:
            await self._leases.aclose()

    async def _loop(self) -> None:
        while True:
            with suppress(TimeoutError):  # asyncio.timeout: wait_for may lose a cancel
                async with asyncio.timeout(self._sleep()):
                    await self._wake.wait()
            self._wake.clear()
            for step in (self._tick, self._deliver):  # one failing does not hold the other
                try:
                    await step()
                except GitwardError as e:  # transient: the next tick tries again
                    log.warning("high availability: %s", e)
                except Exception:  # a bug must not stop the heartbeat; it is logged
                    log.exception("high availability: the replica loop failed")

    def _sleep(self) -> float:
        now_m, now_w = self._clock.monotonic(), self._clock.wall()
        until = [self._checked + self.settings.renew_every - now_m]
        if self._next_expiry is not None:
            until.append(self._next_expiry - now_w + 0.05)
        if self._pending() or self._inbox:
            until.append(RETRY)
        return max(0.01, min(until))

    async def _tick(self) -> None:
        if self._clock.monotonic() >= self._checked + self.settings.renew_every:
            self._checked = self._clock.monotonic()
            problem = await self._owners.schema_problem()
            if problem and not self._schema:
                await self._step_aside(problem)
            elif self._schema and not problem:
                log.info("replica %s: the store's schema matches again", self.me)
                self.lease.resume()
            self._schema = problem
            if problem:
                self._lost(problem)
                return
            self._refresh_due = self._triggers_due = True  # a NOTIFY may have been missed
        now = self._clock.wall()
        if (
            self._refresh_due
            or self._pending()
            or (self._next_expiry is not None and now >= self._next_expiry)
        ):
            self._refresh_due = False
            await self._refresh()
        if self._triggers_due and self.adopted:
            self._triggers_due = False
            taken = await self._owners.take_triggers(sorted(self.adopted))
            self._inbox += [Note(a, trigger, who, options=o) for a, trigger, who, o in taken]

    async def _deliver(self) -> None:
        """Tell the controller of the apps taken over and the triggers taken from the
        store. The triggers' rows are gone once taken, and the controller reads the store
        to hear them (a pin, a suspension): when that read fails (PostgreSQL restarting),
        the rest waits for the next tick instead of being lost."""
        while self._inbox and not self._refresh_due:  # members changed: adopt first
            note = self._inbox[0]
            if note.app in self.adopted:  # else it moved on: its new owner refreshes it
                if note.trigger is None:
                    await self._hooks.gained(note.app, note.finish)
                else:
                    await self._hooks.triggered(note.app, note.trigger, note.actor, note.options)
            self._inbox.pop(0)

    # ------------------------------------------------------------------ the Lease

    def _lost(self, why: str) -> None:
        if self.adopted:
            log.error("replica %s stops syncing: %s", self.me, why)
        self.lease.lose(why)
        self.adopted.clear()

    async def _step_aside(self, why: str) -> None:
        """The store's schema is not this replica's: stop renewing and delete its Lease,
        so that the others take its apps now instead of leaving them unsynced for as
        long as the mismatch lasts (an upgrade rolling through the replicas)."""
        log.error("replica %s stops syncing and gives up its Lease: %s", self.me, why)
        self.lease.pause(why)
        try:
            await self._give_up_lease()
        except GitwardError as e:
            log.warning("could not delete Lease %s; it expires: %s", self.lease.name, e)

    async def _give_up_lease(self) -> bool:
        """Delete this replica's Lease (never another holder's) and tell the others, who
        take its apps at once; True if there was one to delete. The renewals must be
        stopped or paused first, or the next one creates it again."""
        own = self.lease.own
        deleted = own is not None and own.holder == self.me
        if deleted:
            await self._leases.delete(self.lease.name)
            self.lease.own = None
        await self._owners.announce()
        return deleted

    def _lost_elsewhere(self, why: str) -> None:
        """Called from the Lease thread: the main loop drops the apps."""
        if self._main is not None:
            self._main.call_soon_threadsafe(self._lost, why)

    # ------------------------------------------------------------------ apps

    def _owner(self, app: str, members: frozenset[str]) -> str | None:
        """The replica hashing gives ``app`` to: by its name, or by its cluster's."""
        return assign.owner(self._hooks.shard_key(app), members)

    def _pending(self) -> bool:
        return self.valid() and any(
            self._owner(a, self.members) == self.me and a not in self.adopted
            for a in self._hooks.apps()
        )

    async def _refresh(self) -> None:
        """Members from the Leases; apps released and adopted as hashing now says."""
        self._next_expiry = None  # a failed LIST waits for the next tick, never spins
        leases = await self._leases.list()
        now = self._clock.wall()
        members = lease.live_members(leases, now)
        if members != self.members:
            log.info("replicas: %s", ", ".join(sorted(members)) or "none")
        self.members = members
        self._next_expiry = lease.next_expiry(leases, now)
        if self.valid() and (why := lease.taken_from(leases, self.me)):
            self._lost(why)  # seen here before the Lease thread sees it: say so all the same
        mine = {a for a in self._hooks.apps() if self._owner(a, members) == self.me}
        if not self.valid():
            mine = set()
        self.adopted &= mine
        released = await self._owners.release(keep=mine)  # those a sync holds: next time
        if released:
            log.info("released %d apps to other replicas", len(released))
        if self.adopted:  # as the store has it: see _recheck
            self._recheck(await self._owners.owned())
        waiting = await self._adopt_all(sorted(mine - self.adopted))
        if waiting and waiting[0] != self._waiting:
            log.info("%d apps not taken over yet: %s", len(waiting), waiting[0])
        self._waiting = waiting[0] if waiting else ""

    def _recheck(self, owned: set[str]) -> None:
        """Forget the apps the store no longer gives this replica, so that they are
        adopted again. Under load a renewal can come late enough for the others to see
        this replica's Lease expire, take its apps and let them go again once it is
        renewed, all between two looks of this replica: else they would stay unowned."""
        lost = self.adopted - owned
        if lost:
            log.warning(
                "%d apps were taken while this replica's Lease looked expired; taking them "
                "back: %s",
                len(lost),
                ", ".join(sorted(lost)[:5]),
            )
            self.adopted -= lost

    async def _adopt_all(self, apps: list[str]) -> list[str]:
        """Take ``apps`` over, several at once; returns why not, for each not taken. Each
        is a transaction of a few round trips to PostgreSQL: one after the other, on a
        loaded machine, they made most of a SIGTERM handover (0.3 s an app at load 15)."""
        gate = asyncio.Semaphore(ADOPT_AT_ONCE)

        async def one(app: str) -> str:
            async with gate:
                return await self._adopt(app)

        return [why for why in await asyncio.gather(*map(one, apps)) if why]

    async def _adopt(self, app: str) -> str:
        """Take ``app`` over; returns why not ("" once taken)."""
        try:
            taken = await self._owners.adopt(app, self.members, self.lease.expires)
        except NotOwnerError as e:
            return e.message
        self.adopted.add(app)
        if taken.interrupted:
            log.warning(
                "%s: took over from a stopped replica; syncs %s marked interrupted",
                app,
                ", ".join(map(str, taken.interrupted)),
            )
        self._triggers_due = True
        self._inbox.append(Note(app, finish=taken.finish))
        return ""

    # ------------------------------------------------------------------ notifications

    async def _listen(self) -> None:
        while True:
            try:
                await self._owners.listen(self._notified)
            except GitwardError as e:
                log.warning("%s", e.message)
            await asyncio.sleep(LISTEN_BACKOFF)
            self._refresh_due = self._triggers_due = True  # missed notes: look anyway
            self._wake.set()

    def _notified(self, channel: str, payload: str) -> None:
        if channel.endswith("members") and payload != self.me:
            self._refresh_due = True
        elif not channel.endswith("members"):
            self._triggers_due = True
        self._wake.set()
