"""The Events tab: the Kubernetes Events about an app's objects.

Before: the look names the app's objects; the cluster adapter the controller already
uses (the engine's :class:`~gitward.ports.Cluster`) lists ``v1`` Events in their
namespaces. After: ``_kevents.html`` shows them, newest first.

An Event names the object it is about (``involvedObject``). The app's own objects match
by kind, namespace and name; the ReplicaSets, Pods and Jobs its workloads create are not
in Git, so they match when their name starts with a workload's name and a dash (how
Deployments, StatefulSets, DaemonSets and CronJobs name what they create).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitward.model import ResourceKey
from gitward.ports import Cluster

WORKLOADS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet"})
CREATED = frozenset({"ReplicaSet", "Pod", "Job"})
MAX_EVENTS = 200


@dataclass(frozen=True)
class KubeEvent:
    at: str  # as the API server wrote it (RFC 3339), sorts as text
    type: str  # Normal or Warning
    reason: str
    object: str  # Kind/name
    message: str
    count: int
    source: str


async def events_of(
    cluster: Cluster, keys: Iterable[ResourceKey], namespace: str
) -> list[KubeEvent]:
    """The Events of the objects ``keys`` (and what their workloads create), newest first."""
    keys = list(keys)
    namespaces = sorted({k.namespace for k in keys if k.namespace} | ({namespace} - {""}))
    items: list[Mapping[str, Any]] = []
    for ns in namespaces:
        items += await cluster.list("", "Event", namespace=ns)
    return select(items, keys)


def select(items: Sequence[Mapping[str, Any]], keys: Sequence[ResourceKey]) -> list[KubeEvent]:
    exact = {(k.kind, k.namespace or "", k.name) for k in keys}
    prefixes = [(k.namespace or "", f"{k.name}-") for k in keys if k.kind in WORKLOADS]
    out = []
    for item in items:
        ref = item.get("involvedObject") or {}
        kind, ns, name = (
            str(ref.get("kind", "")),
            str(ref.get("namespace", "")),
            str(ref.get("name", "")),
        )
        created = kind in CREATED and any(ns == p_ns and name.startswith(p) for p_ns, p in prefixes)
        if (kind, ns, name) in exact or created:
            out.append(_event(item, f"{kind}/{name}"))
    out.sort(key=lambda e: e.at, reverse=True)
    return out[:MAX_EVENTS]


def _event(item: Mapping[str, Any], subject: str) -> KubeEvent:
    meta = item.get("metadata") or {}
    source = item.get("source") or {}
    at = (
        item.get("lastTimestamp")
        or item.get("eventTime")
        or item.get("firstTimestamp")
        or meta.get("creationTimestamp")
        or ""
    )
    return KubeEvent(
        at=str(at),
        type=str(item.get("type") or "Normal"),
        reason=str(item.get("reason") or ""),
        object=subject,
        message=str(item.get("message") or ""),
        count=int(item.get("count") or 1),
        source=str(source.get("component") or item.get("reportingComponent") or ""),
    )
