"""Waits with deadlines: for health between waves, CRDs to be Established, hooks to
finish, and replaced objects to disappear.

Every wait polls the live object with a growing delay (50 ms up to 1 s) until its
condition holds or its deadline passes; time comes from an injected clock and sleep,
so tests can drive it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from gitward.apply.live import read_live
from gitward.errors import SyncError
from gitward.model import GroupKind, Health, HealthStatus, JsonObject, ResourceKey
from gitward.ports import Clock, Cluster

HealthCheck = Callable[[JsonObject], Health]
Sleep = Callable[[float], Awaitable[None]]

_CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
_NAMESPACE = GroupKind("", "Namespace")
_SETTLED = (HealthStatus.HEALTHY, HealthStatus.SUSPENDED)


class Waiter:
    def __init__(
        self, cluster: Cluster, health: HealthCheck, clock: Clock, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.cluster = cluster
        self.health = health
        self.clock = clock
        self.sleep = sleep

    async def _poll(
        self, key: ResourceKey, done: Callable[[JsonObject | None], bool], timeout: float, what: str
    ) -> JsonObject | None:
        deadline = self.clock.monotonic() + timeout
        delay = 0.05
        while True:
            live = await self.cluster.get(key)
            if done(live):
                return live
            if self.clock.monotonic() >= deadline:
                raise SyncError(
                    f"{key}: timed out after {timeout:.0f}s waiting for {what}",
                    hint="see the object's status and events in the cluster",
                )
            await self.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def prerequisites(
        self, stored: Mapping[ResourceKey, JsonObject], timeout: float = 60.0
    ) -> None:
        """CRDs Established (so their kinds are served) before anything uses them."""
        crds = [
            k
            for k in stored
            if k.group_kind == _CRD and self.health(stored[k]).status is not HealthStatus.HEALTHY
        ]
        await asyncio.gather(
            *(
                self._poll(
                    k,
                    lambda live: (
                        live is not None and self.health(live).status is HealthStatus.HEALTHY
                    ),
                    timeout,
                    "the CRD to be Established",
                )
                for k in crds
            )
        )
        if any(k.group_kind == _CRD for k in stored):
            # Make the new kinds addressable now rather than on the first miss.
            first = next(k for k in stored if k.group_kind == _CRD)
            await self.cluster.resource_for(first.group, first.kind, refresh=True)

    async def healthy(
        self, stored: Mapping[ResourceKey, JsonObject], timeout: float
    ) -> dict[ResourceKey, Health]:
        """Wait until every object is healthy; return those that are not (and why)."""
        pending = {k: v for k, v in stored.items() if self.health(v).status not in _SETTLED}
        deadline = self.clock.monotonic() + timeout
        delay = 0.1
        while pending:
            # One LIST per kind and namespace when several objects wait, not a GET each.
            found = await read_live(self.cluster, list(pending), {})
            unhealthy: dict[ResourceKey, Health] = {}
            for key in list(pending):
                live = found.get(key)
                health = (
                    self.health(live)
                    if live is not None
                    else Health(HealthStatus.MISSING, "the object disappeared")
                )
                if health.status is HealthStatus.DEGRADED:
                    return {key: health}
                if health.status not in _SETTLED:
                    unhealthy[key] = health
            pending = {k: stored[k] for k in unhealthy}
            if not pending:
                break
            if self.clock.monotonic() >= deadline:
                return {
                    k: Health(h.status, f"{h.message} (after {timeout:.0f}s)")
                    for k, h in unhealthy.items()
                }
            await self.sleep(delay)
            delay = min(delay * 2, 1.0)
        return {}

    async def finished(self, key: ResourceKey, timeout: float) -> tuple[JsonObject, Health]:
        """For hooks: wait until the Job or Pod succeeded (Healthy) or failed (Degraded)."""

        def done(live: JsonObject | None) -> bool:
            return live is not None and self.health(live).status in (
                HealthStatus.HEALTHY,
                HealthStatus.DEGRADED,
            )

        live = await self._poll(key, done, timeout, "the hook to finish")
        assert live is not None  # noqa: S101 - done() guarantees it
        return live, self.health(live)

    async def gone(self, key: ResourceKey, timeout: float) -> None:
        await self._poll(key, lambda live: live is None, timeout, "the object to be deleted")
