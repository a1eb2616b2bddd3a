"""``/api/v1/clusters``: each cluster's health, labels and apps, without credentials.

The health comes from each connection's monitor (:mod:`gitward.fleet.monitor`); the
labels and where the cluster was declared from its declaration. Only what a person
needs to see is copied out: never a token, password, key or kubeconfig content (a
kubeconfig *path* is shown, since it is the operator's file name, not its content).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitward.model.cluster import ClusterHealth
from gitward.ports import AppsView
from gitward.spec.clusters import ClusterSpec


@dataclass(frozen=True)
class ClusterEntry:
    """One cluster as the API shows it: its health, and its declaration if any."""

    health: ClusterHealth
    spec: ClusterSpec | None


ClusterSource = Callable[[], Sequence[ClusterEntry]]


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def cluster_view(entry: ClusterEntry, apps: AppsView) -> dict[str, Any]:
    health, spec = entry.health, entry.spec
    name = health.name
    wanted = "" if name == "in-cluster" else name
    members = [
        n for n in apps.names() if (apps.declared(n).destination.name or "") in (wanted, name)
    ]
    if spec is None:
        source = "default"  # the controller's own kubeconfig context
    elif spec.server is not None:
        source = "ArgoCDSecret"
    else:
        source = "Cluster"
    return {
        "name": name,
        "state": health.state.value,
        "server": health.server,
        "version": health.version,
        "lastContact": _time(health.last_contact),
        "lastError": health.last_error,
        "since": _time(health.since),
        "failures": health.failures,
        "labels": dict(spec.labels) if spec else {},
        "declaredBy": source,
        "origin": spec.origin if spec else "",
        "kubeconfig": spec.kubeconfig if spec else None,
        "context": spec.context if spec else None,
        "apps": members,
    }
