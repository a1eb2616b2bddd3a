"""API discovery: which resources a cluster serves, fetched in two requests.

Aggregated discovery (``apidiscovery.k8s.io/v2``, GA since Kubernetes 1.30) returns every
group, version and resource of ``/api`` and ``/apis`` in one answer each, versions in
preference order. The map is kept until a kind is missing from it; then it is fetched
again once (a CRD applied a moment ago becomes addressable without a restart).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gitward.errors import UnknownKindError
from gitward.model import ApiResource, GroupKind, JsonObject

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

GetJson = Callable[[str, str | None], Awaitable[JsonObject]]


def parse_aggregated(document: JsonObject) -> dict[GroupKind, ApiResource]:
    """Preferred-version resources by group and kind, from one APIGroupDiscoveryList."""
    found: dict[GroupKind, ApiResource] = {}
    for group_doc in document.get("items") or []:
        group = str((group_doc.get("metadata") or {}).get("name") or "")
        for version_doc in group_doc.get("versions") or []:  # preferred version first
            version = str(version_doc.get("version"))
            for res in version_doc.get("resources") or []:
                kind = str((res.get("responseKind") or {}).get("kind") or "")
                key = GroupKind(group, kind)
                if not kind or key in found:
                    continue
                found[key] = ApiResource(
                    group=group,
                    version=version,
                    kind=kind,
                    plural=str(res["resource"]),
                    namespaced=res.get("scope") == "Namespaced",
                    verbs=frozenset(str(v) for v in res.get("verbs") or ()),
                )
    return found


class Discovery:
    """A cache of the cluster's resources, refreshed when a kind is not in it."""

    def __init__(self, get_json: GetJson) -> None:
        self._get_json = get_json
        self._resources: dict[GroupKind, ApiResource] | None = None
        self._groups: list[str] = []
        self._lock = asyncio.Lock()

    async def _load(self) -> dict[GroupKind, ApiResource]:
        core, groups = await asyncio.gather(
            self._get_json("/api", AGGREGATED), self._get_json("/apis", AGGREGATED)
        )
        resources = parse_aggregated(core)
        resources.update(parse_aggregated(groups))
        self._groups = [
            f"{g['metadata'].get('name')}/{v['version']}"
            if g["metadata"].get("name")
            else str(v["version"])
            for doc in (core, groups)
            for g in doc.get("items") or []
            for v in g.get("versions") or []
        ]
        return resources

    async def _resources_now(self, refresh: bool = False) -> dict[GroupKind, ApiResource]:
        async with self._lock:
            if self._resources is None or refresh:
                self._resources = await self._load()
            return self._resources

    async def resource_for(self, group: str, kind: str, *, refresh: bool = False) -> ApiResource:
        key = GroupKind(group, kind)
        resources = await self._resources_now(refresh)
        if key not in resources:
            resources = await self._resources_now(refresh=True)  # maybe a CRD was just installed
        found = resources.get(key)
        if found is None:
            raise UnknownKindError(
                f"the cluster serves no resource of kind {key}",
                subject=str(key),
                hint="check apiVersion and kind; for a custom resource, install its CRD "
                "first (in the same sync it is applied before its custom resources)",
            )
        return found

    async def api_versions(self) -> list[str]:
        resources = await self._resources_now()
        kinds = [f"{r.api_version}/{r.kind}" for r in resources.values()]
        return sorted({*self._groups, *kinds})
