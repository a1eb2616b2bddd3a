"""Replica Leases (``coordination.k8s.io/v1``) through :class:`KubeClient`.

Implements :class:`gitward.ha.ports.Leases`. Writes are server-side applies that carry
the ``resourceVersion`` as read, so a Lease someone changed since is never overwritten
(409); a new Lease is created with POST, so two replicas cannot both create it. The
namespace is created when missing, as the inventory's is.
"""

from __future__ import annotations

from typing import Any

from gitward.errors import KubeError
from gitward.ha import lease
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey

GROUP = "coordination.k8s.io"


class KubeLeases:
    def __init__(self, client: KubeClient, namespace: str, *, field_manager: str) -> None:
        self._client = client
        self._namespace = namespace
        self._manager = field_manager

    async def list(self) -> list[lease.LeaseRecord]:
        found = await self._client.list(
            GROUP, "Lease", namespace=self._namespace, labels=lease.SELECTOR
        )
        return [lease.parse(obj) for obj in found]

    async def get(self, name: str) -> lease.LeaseRecord | None:
        found = await self._client.get(ResourceKey(GROUP, "Lease", self._namespace, name))
        return None if found is None else lease.parse(found)

    async def write(self, body: dict[str, Any], *, create: bool) -> lease.LeaseRecord:
        if not create:
            return lease.parse(
                await self._client.apply(body, field_manager=self._manager, force=True)
            )
        try:
            return lease.parse(await self._client.create(body, field_manager=self._manager))
        except KubeError as e:
            if e.status != 404:
                raise
        await self._client.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self._namespace}},
            field_manager=self._manager,
        )
        return lease.parse(await self._client.create(body, field_manager=self._manager))

    async def delete(self, name: str) -> None:
        await self._client.delete(ResourceKey(GROUP, "Lease", self._namespace, name))

    async def aclose(self) -> None:
        await self._client.aclose()
