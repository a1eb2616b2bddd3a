"""The clusters ``gitward serve`` deploys to: one :class:`~gitward.compose.Connection`
each (client, watch cache, engine, health monitor), made on first use.

Before: ``serve`` hands over the declared clusters at every config reload
(:meth:`Connections.update`). After: the controller's engines come from
:meth:`Connections.connect`, and the API reads :meth:`Connections.entries`. Every
declared cluster is connected (and probed) at once, so its health shows before any app
targets it. A cluster whose connection settings change is connected again; one whose
labels alone change keeps its connection; one no longer declared is closed after its
apps were removed (:meth:`Connections.drop_undeclared`), never replaced by the default.
The name ``""`` is the controller's own kubeconfig context (``in-cluster``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gitward import compose
from gitward.api.clusters import ClusterEntry
from gitward.errors import ConfigError
from gitward.model import AppSpec
from gitward.observe.health import HealthLibrary
from gitward.ports import Clock, GitSource, PolicyCheck, Renderer
from gitward.reconcile.metrics import Metrics
from gitward.spec.clusters import ClusterSpec


def cluster_of(spec: AppSpec) -> str:
    """The declared cluster an app deploys to; "" for the default (``in-cluster``)."""
    name = spec.destination.name or ""
    return "" if name == "in-cluster" else name


@dataclass(frozen=True)
class Wiring:
    """What every connection shares with the rest of the service."""

    adapters: compose.Settings
    git: GitSource
    renderer: Renderer
    clock: Clock
    metrics: Metrics
    policy: PolicyCheck | None
    on_event: compose.LiveEvent
    on_recovered: Callable[[str], None]  # told the cluster's name ("in-cluster": "")


class Connections:
    def __init__(self, wiring: Wiring) -> None:
        self.wiring = wiring
        self.declared: Mapping[str, ClusterSpec] = {}
        self.open: dict[str, compose.Connection] = {}
        self.health_library: HealthLibrary | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def connect(self, name: str) -> compose.Connection:
        """The connection to cluster ``name`` ("" for the default), made on first use."""
        if name not in self.open:
            declared = self.declared.get(name) if name else None
            if name and declared is None:  # never the default in its place
                raise ConfigError(
                    f"destination cluster {name!r} is not declared",
                    hint=f"add a Cluster document (or an Argo CD cluster Secret) named {name!r}, "
                    "or fix destination.name",
                )
            w = self.wiring
            connection = compose.connect(
                w.adapters,
                declared,
                shared_git=w.git,
                shared_renderer=w.renderer,
                clock=w.clock,
                on_event=w.on_event,
                observer=w.metrics.kube_observer(declared.name if declared else "default"),
                policy=w.policy,
                on_recovered=lambda cluster: w.on_recovered(
                    "" if cluster == "in-cluster" else cluster
                ),
            )
            if self.health_library is not None:
                connection.engine.use_health_library(self.health_library)
            self.open[name] = connection
            connection.start_probing()
        return self.open[name]

    def update(self, declared: Mapping[str, ClusterSpec]) -> None:
        """Adopt the clusters of a new config revision (see the module docstring)."""
        self.declared = declared
        for name, connection in list(self.open.items()):
            new = declared.get(name) if name else None
            if new is None or connection.spec is None:
                continue  # the default, or no longer declared: see drop_undeclared
            if new.connection() != connection.spec.connection():
                self._close(name)
            else:
                connection.spec = new  # new labels, same connection
        for name in declared:
            self.connect(name)

    def drop_undeclared(self) -> None:
        """Close the clusters no longer declared, once their apps have been removed."""
        for name in [n for n in self.open if n and n not in self.declared]:
            self._close(name)

    def use_health_library(self, library: HealthLibrary) -> None:
        self.health_library = library
        for connection in self.open.values():
            connection.engine.use_health_library(library)

    def entries(self) -> list[ClusterEntry]:
        """Every connected cluster's health and declaration, by name (``/clusters``)."""
        entries = [ClusterEntry(c.monitor.health, c.spec) for c in self.open.values()]
        return sorted(entries, key=lambda e: e.health.name)

    def _close(self, name: str) -> None:
        task = asyncio.create_task(self.open.pop(name).close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        opened, self.open = list(self.open.values()), {}
        await asyncio.gather(*self._closing, return_exceptions=True)
        for connection in opened:
            await connection.close()
