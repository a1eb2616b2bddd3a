"""This replica's own Lease, renewed from a thread of its own.

The replica's event loop runs syncs, watches and the API; on a loaded machine a ready
queue of hundreds of callbacks can hold a renewal back for longer than the Lease lasts,
and the others would then take every app away from a replica that is merely busy. So
the renewal runs in a thread with its own event loop and its own Kubernetes client:
Python switches threads every few milliseconds, whatever the main loop is doing.

Shared with the main loop: a few floats and a record, replaced whole (never mutated),
and ``on_lost``, which the main loop is asked to run with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from gitward.errors import GitwardError, KubeError
from gitward.ha import lease
from gitward.ha.ports import Leases
from gitward.ports import Clock

log = logging.getLogger("gitward.ha")


class LeaseHolder:
    """Create, renew or take back the Lease ``gitward-replica-<me>``; see the module doc."""

    def __init__(
        self,
        me: str,
        namespace: str,
        duration: float,
        clock: Clock,
        on_lost: Callable[[str], None],
    ) -> None:
        self.me = me
        self.namespace = namespace
        self.duration = duration
        self._clock = clock
        self._on_lost = on_lost
        self.own: lease.LeaseRecord | None = None
        self.valid_until = 0.0  # monotonic: the Lease is ours until then
        self.expires = 0.0  # wall: when the others see it expire
        self.why_lost = ""  # why the Lease was given up, until a renewal succeeds
        self._stop = threading.Event()
        self._soon = threading.Event()
        self._thread: threading.Thread | None = None
        self._refusal = ""  # why the API server refuses this replica's credentials, if it does
        self._paused = ""  # why this replica does not renew its Lease at all, if it does not

    @property
    def name(self) -> str:
        return lease.lease_name(self.me)

    def valid(self) -> bool:
        return self._clock.monotonic() < self.valid_until

    def lose(self, why: str = "") -> None:
        self.valid_until = 0.0
        self.why_lost = why or self.why_lost

    def pause(self, why: str) -> None:
        """Stop renewing, so that the others stop counting this replica in (a store of
        another schema: it could not sync the apps hashing gives it)."""
        self._paused = why
        self.lose(why)

    def resume(self) -> None:
        """Renew again (at once): the replica takes its share back."""
        self._paused = ""
        self.why_lost = ""  # until renewed: "has not renewed its Lease in time"
        self._soon.set()

    def why_not(self) -> str:
        """Why this replica may not sync now ("" while its Lease is valid): /readyz."""
        if self._paused:
            return self._paused
        if self.valid():
            return ""
        return self.why_lost or f"replica {self.me} has not renewed its Lease {self.name} in time"

    async def renew(self, leases: Leases) -> None:
        """One renewal: create, renew or take the Lease, or learn it is someone else's."""
        if self._paused:
            return
        started, now = self._clock.monotonic(), self._clock.wall()
        step = lease.plan(self.own, self.me, now)
        if step is lease.Step.WAIT and self.own is not None:
            why = f"Lease {self.name} is held by {self.own.holder!r}"
            self.lose(why)
            self._on_lost(why)
            self.own = await leases.get(self.name)  # read it again: see it expire
            return
        body = lease.body(self.namespace, self.me, self.duration, now, self.own)
        try:
            written = await leases.write(body, create=step is lease.Step.CREATE)
        except KubeError as e:
            if e.status in (401, 403):
                self._refused(e)
                return
            if e.status in (404, 409):  # changed or deleted since read: read, plan again
                self.own = await leases.get(self.name)
                self._soon.set()
            log.warning("renewing Lease %s failed: %s", self.name, e.message)
            return
        if self._refusal:
            log.info("the API server accepts replica %s's credentials again", self.me)
            self._refusal = ""
        if step is lease.Step.TAKE or not self.valid():
            log.info("replica %s holds Lease %s", self.me, written.name)
        self.own = written
        self.why_lost = ""
        self.valid_until = started + self.duration
        self.expires = now + self.duration

    def _refused(self, e: KubeError) -> None:
        """401/403: no renewal can succeed until someone renews the credentials or the
        rights (a pod's projected token is re-read when it rotates). Nothing this replica
        writes would be accepted either, so it stops syncing now rather than at expiry;
        the others take its apps when the Lease expires."""
        cause = (
            "the token expired or was revoked"
            if e.status == 401
            else "its RBAC rules no longer allow it"
        )
        why = (
            f"the API server refuses replica {self.me}'s credentials for Lease {self.name} "
            f"(HTTP {e.status}: {cause}); it syncs nothing until they are renewed"
        )
        if why != self._refusal:
            log.error("%s: %s", why, e.message)
            self._refusal = why
        self.lose(why)
        self._on_lost(why)

    # ------------------------------------------------------------------ the thread

    def start(self, make_leases: Callable[[], Leases]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(make_leases,), name="gitward-lease", daemon=True
        )
        self._thread.start()

    def renew_soon(self) -> None:
        self._soon.set()

    def stop(self) -> None:
        """Stop renewing (blocks until the thread ended; run it off the event loop)."""
        self._stop.set()
        self._soon.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self, make_leases: Callable[[], Leases]) -> None:
        loop = asyncio.new_event_loop()
        leases = make_leases()
        try:
            while not self._stop.is_set():
                self._soon.wait(timeout=self.duration / 3)
                self._soon.clear()
                if self._stop.is_set():
                    break
                try:
                    loop.run_until_complete(self.renew(leases))
                except GitwardError as e:
                    log.warning("renewing Lease %s failed: %s", self.name, e.message)
                except Exception:  # a bug must not stop the heartbeat silently
                    log.exception("renewing Lease %s failed", self.name)
        finally:
            loop.run_until_complete(leases.aclose())
            loop.close()
