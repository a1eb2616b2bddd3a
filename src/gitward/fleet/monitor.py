"""One cluster's health, from probes and from every request gitward's apps make.

Why: one unreachable cluster must never slow the apps of the others. A request that gets
no answer makes the monitor probe at once; once the probe finds the cluster down,
:meth:`ClusterMonitor.gate` says so and the cluster's client fails at once (no connect
timeout per request); its apps report Unknown with the cause and back off. (One lost
request alone never closes the gate: under load a watch may be cut while the server is
fine.) The probe keeps asking ``/version`` with a capped backoff; when it answers
again, ``on_recovered`` queues the cluster's apps and :meth:`ClusterMonitor.sleep` wakes
the watches that were waiting to retry, so everything converges without a restart.

The transitions are pure (:func:`observe_success`, :func:`observe_failure`); the class
adds the probe loop. Before: ``compose.connect`` builds one per connection and wires
the client's observer to it. After: the API reads :attr:`ClusterMonitor.health`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gitward.errors import GitwardError, KubeError
from gitward.model.cluster import ClusterHealth, ClusterState
from gitward.ports import Clock

log = logging.getLogger("gitward.fleet")

UNAUTHORIZED = 401  # the server answered, and refused the credentials
REFUSED = "401 Unauthorized: the API server refused gitward's credentials (expired token?)"


@dataclass(frozen=True)
class MonitorSettings:
    interval: float = 15.0  # seconds between probes of a Ready cluster
    retry_initial: float = 0.5  # first probe delay once a cluster is down
    retry_max: float = 5.0  # probes of a down cluster at most this far apart
    probe_timeout: float = 30.0  # seconds for one probe, all included (as a request)


def observe_success(health: ClusterHealth, at: datetime, version: str = "") -> ClusterHealth:
    """The cluster answered (a probe or any request)."""
    changed = health.state is not ClusterState.READY
    return dataclasses.replace(
        health,
        state=ClusterState.READY,
        version=version or health.version,
        last_contact=at,
        since=at if changed else health.since,
        failures=0,
    )


def observe_failure(
    health: ClusterHealth, at: datetime, state: ClusterState, error: str
) -> ClusterHealth:
    """A probe or request failed; ``state`` says how (Unreachable, Unauthorized, ...)."""
    contact = at if state is ClusterState.UNAUTHORIZED else health.last_contact
    return dataclasses.replace(
        health,
        state=state,
        last_error=error,
        last_contact=contact,
        since=at if health.state is not state else health.since,
        failures=health.failures + 1,
    )


def classify(error: GitwardError) -> ClusterState:
    """How a failed request leaves the cluster: no answer, or credentials refused."""
    if isinstance(error, KubeError) and error.status == UNAUTHORIZED:
        return ClusterState.UNAUTHORIZED
    if error.transient:
        return ClusterState.UNREACHABLE
    return ClusterState.READY  # an answer (404, 409, 422 ...): the cluster is fine


def probe_delay(health: ClusterHealth, settings: MonitorSettings) -> float:
    """Seconds to the next probe: the interval when Ready, a capped backoff when not."""
    if health.state is ClusterState.READY:
        return settings.interval
    delay = settings.retry_initial * 2.0 ** min(max(health.failures - 1, 0), 16)
    return float(min(delay, settings.retry_max))


class ClusterMonitor:
    """The health of one cluster, its probe loop, and the gate its client asks."""

    def __init__(
        self,
        health: ClusterHealth,
        clock: Clock,
        *,
        settings: MonitorSettings | None = None,
        on_recovered: Callable[[str], None] | None = None,
    ) -> None:
        self.health = health
        self.clock = clock
        self.settings = settings or MonitorSettings()
        self.on_recovered = on_recovered
        self._recovered = asyncio.Event()
        self._probe_now = asyncio.Event()  # a request got no answer: probe at once

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.wall(), UTC)

    # ------------------------------------------------------------------ observations

    def succeeded(self, version: str = "") -> None:
        was_usable = self.health.state is ClusterState.READY
        self.health = observe_success(self.health, self._now(), version)
        if not was_usable:
            log.info("cluster %s is reachable again", self.health.name)
            self._recovered.set()
            self._recovered = asyncio.Event()
            if self.on_recovered is not None:
                self.on_recovered(self.health.name)

    def failed(self, state: ClusterState, error: str) -> None:
        if state is ClusterState.READY:  # an answer after all: only the request failed
            self.succeeded()
            return
        if self.health.state is not state:
            log.warning("cluster %s is %s: %s", self.health.name, state.value, error)
        self.health = observe_failure(self.health, self._now(), state, error)

    def suspect(self, error: str = "") -> None:
        """A request got no answer. One lost request (a watch cut, a slow moment) does not
        make a cluster down: the probe asks at once, and its answer decides."""
        if self.health.state is ClusterState.READY:
            log.info("cluster %s: a request got no answer (%s); probing", self.health.name, error)
        self._probe_now.set()

    def observe_request(self, status: int) -> None:
        """The kube client's observer: each request's HTTP status (0: no answer)."""
        if status == 0:
            self.suspect()
        elif status == UNAUTHORIZED:
            self.failed(ClusterState.UNAUTHORIZED, REFUSED)
        elif self.health.state is not ClusterState.READY:
            self.succeeded()

    def gate(self) -> str | None:
        """Why requests to this cluster should not be sent now, or None to send them."""
        health = self.health
        if health.usable:
            return None
        since = health.since.strftime("%H:%M:%S") if health.since else "?"
        return (
            f"cluster {health.name!r} is {health.state.value} since {since} UTC "
            f"({health.last_error}); retrying"
        )

    # ------------------------------------------------------------------ probing

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the cluster comes back (the watches' backoff)."""
        recovered = self._recovered
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await recovered.wait()

    async def run(self, probe: Callable[[], Awaitable[str]]) -> None:
        """Probe forever: ``probe`` returns the server version or raises GitwardError."""
        while True:
            self._probe_now.clear()
            await self.probe_once(probe)
            delay = probe_delay(self.health, self.settings)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for: see probe_once
                    await self._probe_now.wait()

    async def probe_once(self, probe: Callable[[], Awaitable[str]]) -> None:
        """One probe. ``asyncio.timeout``, never ``wait_for``: on Python 3.11, a cancel
        that lands in the turn the probe answers is lost inside ``wait_for``, and the
        loop would probe on after its connection was closed (a stop waited for ever)."""
        timeout = self.settings.probe_timeout
        try:
            async with asyncio.timeout(timeout):
                version = await probe()
        except TimeoutError:
            self.failed(ClusterState.UNREACHABLE, f"GET /version: no answer within {timeout:g}s")
        except GitwardError as e:
            state = classify(e)
            refused = state is ClusterState.UNAUTHORIZED
            self.failed(state, REFUSED if refused else e.message)
        else:
            self.succeeded(version)
