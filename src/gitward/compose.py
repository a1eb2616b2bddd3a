"""Build concrete adapters from configuration: the only place that picks implementations.

Stages depend on ports; this module decides that Git is pygit2 mirrors in the user
cache, rendering uses the pinned ``kustomize`` and ``helm``, the cluster is reached
through a kubeconfig and watched into a :class:`~gitward.kube.cache.LiveCache`, and
history goes to SQLite in the state directory (or the database a URL names). It is
the only module that imports the ``kube`` and ``store`` adapters (an import-linter
contract says so): the CLI and ``gitward serve`` build everything here, from one
:class:`Settings`, so the field manager, the inventory namespace, Git credentials,
decryption keys and the state directory reach every part alike. What only ``serve``
needs (the watch cache, the store) is imported where it is built, so the CLI's
commands do not pay for it at start-up.

Tool binaries are found in this order: ``$GITWARD_HELM`` / ``$GITWARD_KUSTOMIZE``,
gitward's build cache, ``PATH``, and finally a build from Go modules (with progress
shown), so a fresh machine works without setup.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitward.apply.inventory import InventoryStore
from gitward.errors import ConfigError
from gitward.fleet.monitor import ClusterMonitor
from gitward.kube.client import KubeClient
from gitward.model import DecryptionKeys, GroupKind, JsonObject, RepoCredentials
from gitward.model.cluster import ClusterHealth, ClusterState
from gitward.paths import confine
from gitward.ports import Clock, GitSource, PolicyCheck, Progress, Renderer, SilentProgress
from gitward.reconcile.config import ConfigLocation
from gitward.reconcile.pipeline import Engine
from gitward.render import ManifestRenderer, RenderTools
from gitward.source import GitRepositorySource
from gitward.source.addresses import AddressPolicy
from gitward.source.fetch_process import DEFAULT_FETCH_TIMEOUT
from gitward.toolchain import Toolchain, default_cache_dir

if TYPE_CHECKING:
    from gitward.ha.replica import HaSettings, Replica
    from gitward.kube.cache import LiveCache
    from gitward.model.project import ProjectSpec
    from gitward.notify import Notifier
    from gitward.policy.set import PolicyChecker, PolicySet
    from gitward.policy.source import PolicySource
    from gitward.reconcile.controller import Controller
    from gitward.spec.clusters import ClusterSpec
    from gitward.store import Store


@dataclass(frozen=True)
class Settings:
    """Where things are and who gitward is, for every adapter built here."""

    kubeconfig: str | None = None
    context: str | None = None
    cache_dir: Path | None = None
    credentials: RepoCredentials | None = None
    field_manager: str = "gitward"
    inventory_namespace: str = "gitward-system"
    concurrency: int = 32
    git_timeout: float = DEFAULT_FETCH_TIMEOUT  # seconds for one fetch over the network
    # Age identities for SOPS files (--decryption-key-file); apps may add their own.
    keys: DecryptionKeys = field(default_factory=DecryptionKeys)
    # Networks Git may not fetch from (SSRF): link-local and cloud metadata by default.
    repo_addresses: AddressPolicy = field(default_factory=AddressPolicy)
    state_dir: Path | None = None  # serve: the admin token and the SQLite database
    ha: HaSettings | None = None  # serve --ha: one of several replicas (docs/ha.md)


def tool(name: str, progress: Progress | None = None) -> Path:
    """The ``helm`` or ``kustomize`` binary to render with."""
    if explicit := os.environ.get(f"GITWARD_{name.upper()}"):
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"GITWARD_{name.upper()}={explicit} is not a file")
        return path
    toolchain = Toolchain(progress=progress or SilentProgress())
    if built := toolchain.find(name):  # asks nothing of Go: quick, and works without it
        return built
    found = shutil.which(name)
    if found:
        return Path(found)
    return toolchain.ensure([name])[name]


def git_source(settings: Settings) -> GitRepositorySource:
    return GitRepositorySource(
        (settings.cache_dir or default_cache_dir()) / "git",
        fetch_timeout=settings.git_timeout,
        addresses=settings.repo_addresses,
    )


def renderer(progress: Progress | None = None, cache_dir: Path | None = None) -> ManifestRenderer:
    """The renderer; chart dependencies are built into ``<cache_dir>/charts``."""
    return ManifestRenderer(
        RenderTools(
            kustomize=tool("kustomize", progress),
            helm=tool("helm", progress),
            chart_cache=(cache_dir or default_cache_dir()) / "charts",
        )
    )


def kube_client(settings: Settings) -> KubeClient:
    return KubeClient.from_kubeconfig(
        settings.kubeconfig, settings.context, max_in_flight=max(settings.concurrency, 8)
    )


def engine(
    settings: Settings,
    cluster: KubeClient,
    progress: Progress | None = None,
    *,
    shared_git: GitSource | None = None,
    shared_renderer: Renderer | None = None,
    live: LiveCache | None = None,
    clock: Clock | None = None,
    policy: PolicyCheck | None = None,
) -> Engine:
    """An engine on ``cluster``; serve passes its shared Git source, renderer and cache."""
    credentials = settings.credentials
    return Engine(
        shared_git or git_source(settings),
        shared_renderer or renderer(progress, settings.cache_dir),
        cluster,
        inventory=InventoryStore(
            cluster, settings.inventory_namespace, field_manager=settings.field_manager
        ),
        field_manager=settings.field_manager,
        credentials=lambda _url: credentials,
        live=live,
        clock=clock,
        policy=policy,
        keys=settings.keys,
    )


async def store(settings: Settings, clock: Clock, url: str | None = None) -> Store:
    """The history store: ``url`` (SQLite or PostgreSQL), else SQLite in the state dir.

    With ``settings.ha`` (``serve --ha``), syncs are recorded under the replica id.
    """
    from gitward.store import DEFAULT_OWNER, Store  # noqa: PLC0415 - serve only: heavy

    if url is None:
        if settings.state_dir is None:
            raise ConfigError("no database: give a database URL or a state directory")
        url = f"sqlite:///{settings.state_dir / 'gitward.db'}"
    return await Store.open(
        url, clock, owner=settings.ha.replica_id if settings.ha else DEFAULT_OWNER
    )


def replica(
    settings: Settings, store: Store, clock: Clock, controller: Callable[[], Controller]
) -> Replica | None:
    """``serve --ha``: this replica (None without it), telling ``controller`` (built after
    it) what it takes over; its Lease thread gets a Kubernetes client of its own."""
    from gitward import sharing  # noqa: PLC0415 - serve --ha only
    from gitward.ha.replica import Replica  # noqa: PLC0415
    from gitward.kube.leases import KubeLeases  # noqa: PLC0415

    if (ha := settings.ha) is None:
        return None
    owners = store.ownership()  # refuses SQLite: replicas share one PostgreSQL

    def leases() -> KubeLeases:
        return KubeLeases(kube_client(settings), ha.namespace, field_manager=settings.field_manager)

    return Replica(ha, leases, owners, clock, sharing.hooks(controller, ha.shard_by))


# The controller is told of every change in a watched cluster: (event type, object).
LiveEvent = Callable[[str, JsonObject], Awaitable[None]]


@dataclass
class Connection:
    """One cluster as ``gitward serve`` uses it: a client, the watch cache it feeds,
    the engine that reads from both, and the monitor that keeps its health."""

    client: KubeClient
    cache: LiveCache
    engine: Engine
    monitor: ClusterMonitor
    spec: ClusterSpec | None = None
    _probe: asyncio.Task[None] | None = None

    async def track(self, kinds: Iterable[GroupKind]) -> None:
        """Watch these kinds (once each), so that planning reads them from the cache."""
        for kind in sorted(set(kinds)):
            await self.cache.track(kind)

    def start_probing(self) -> None:
        """Probe the cluster's health in the background (see gitward.fleet.monitor);
        not one whose settings do not load: only new settings could change that."""
        if self._probe is None and self.monitor.health.state is not ClusterState.INVALID:
            probe = self.monitor.run(self.client.probe_version)
            name = f"gitward probe {self.monitor.health.name}"
            self._probe = asyncio.create_task(probe, name=name)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            await asyncio.gather(self._probe, return_exceptions=True)
        await self.cache.close()
        await self.client.aclose()


def cluster_client(
    settings: Settings, cluster: ClusterSpec | None, monitor: ClusterMonitor
) -> KubeClient:
    """The client of a declared cluster (or of the settings' kubeconfig), gated by its
    health. Settings that do not load give a client that refuses every request with
    the reason, so the cluster's apps show it and nothing else stops."""
    name = cluster.name if cluster is not None else (settings.context or "default")
    try:
        if cluster is None:
            client = KubeClient.from_kubeconfig(settings.kubeconfig, settings.context)
        elif cluster.in_cluster:
            client = KubeClient.in_cluster()
        elif cluster.server is not None:
            client = KubeClient.from_config(cluster.kubeconfig_dict())
        else:
            # Declared in Git: never a kubeconfig a repository checkout could provide.
            untrusted = (settings.cache_dir or default_cache_dir(),)
            client = KubeClient.from_kubeconfig(
                cluster.kubeconfig, cluster.context, untrusted_dirs=untrusted
            )
    except ConfigError as e:
        monitor.failed(ClusterState.INVALID, e.message)
        return KubeClient.unusable(name, f"cluster {name!r} cannot be used: {e.message}")
    client.gate = monitor.gate
    client.on_unreachable = monitor.suspect
    return client


def connect(
    settings: Settings,
    cluster: ClusterSpec | None,
    *,
    shared_git: GitSource,
    shared_renderer: Renderer,
    clock: Clock,
    on_event: LiveEvent,
    observer: Callable[[str, float, int], None] | None = None,
    policy: PolicyCheck | None = None,
    on_recovered: Callable[[str], None] | None = None,
) -> Connection:
    """A :class:`Connection` to a declared cluster, or to the settings' kubeconfig."""
    from gitward.kube.cache import LiveCache  # noqa: PLC0415 - serve only
    from gitward.kube.watch import EventType  # noqa: PLC0415

    name = cluster.name if cluster is not None else "in-cluster"
    server = (cluster.server if cluster is not None else None) or ""
    monitor = ClusterMonitor(ClusterHealth(name, server=server), clock, on_recovered=on_recovered)
    client = cluster_client(settings, cluster, monitor)

    def observe(label: str, seconds: float, status: int) -> None:
        monitor.observe_request(status)
        if observer is not None:
            observer(label, seconds, status)

    client.observer = observe
    # Watches retry a down cluster with their own backoff; they wake when it is back.
    cache = LiveCache(client, own_manager=settings.field_manager, sleep=monitor.sleep)

    async def relay(kind: EventType, obj: JsonObject) -> None:
        await on_event(kind.value, obj)

    cache.subscribe(relay)
    built = engine(
        settings,
        client,
        shared_git=shared_git,
        shared_renderer=shared_renderer,
        live=cache,
        clock=clock,
        policy=policy,
    )
    return Connection(client, cache, built, monitor, cluster)


def policy_checker(
    paths: Sequence[Path],
    progress: Progress | None = None,
    projects: Mapping[str, ProjectSpec] | None = None,
    policies: PolicySet | None = None,
) -> PolicyChecker:
    """The policy stage for ``--policy`` paths; OPA is found (or built) only for Rego.

    Close it when done: it may own a running OPA server. The stage is imported here, not
    at the top, so that the commands that do not check policy (render, diff, sync) do not
    pay its start-up cost (about 0.1 s).
    """
    from gitward.policy.load import load_policies  # noqa: PLC0415
    from gitward.policy.opa import OpaPool  # noqa: PLC0415
    from gitward.policy.set import PolicyChecker  # noqa: PLC0415

    loaded = policies or load_policies(paths)
    if projects:
        loaded = loaded.with_projects(projects)
    backend = OpaPool(tool("opa", progress)) if loaded.rego is not None else None
    return PolicyChecker(loaded, backend)


def policy_source(
    paths: Sequence[Path],
    policy_path: str | None,
    config: ConfigLocation,
    git: GitSource,
    projects: Callable[[], Mapping[str, ProjectSpec]],
) -> PolicySource:
    """The controller's policy stage: ``--policy`` files, the ``--policy-path`` folder of
    the config location (followed per commit when it is in Git) and declared projects."""
    from gitward.policy.load import load_policies  # noqa: PLC0415 - see policy_checker
    from gitward.policy.opa import OpaPool  # noqa: PLC0415
    from gitward.policy.source import GitPolicyPath, PolicySource  # noqa: PLC0415

    local = list(paths)
    in_git = None
    if policy_path is not None and config.repo_url is None:
        local.append(confine(Path(config.path), policy_path, what="--policy-path"))
    elif policy_path is not None and config.repo_url is not None:
        in_git = GitPolicyPath(config.repo_url, policy_path, config.revision)
    return PolicySource(
        load_policies(local),
        lambda: OpaPool(tool("opa")),
        git=git,
        in_git=in_git,
        projects=projects,
    )


def notifier(path: Path | None, clock: Clock) -> Notifier:
    """The notification sender for ``--notifications FILE`` (none configured: a no-op)."""
    from gitward.notify import Notifier, NotifyConfig, load_config  # noqa: PLC0415 - serve only

    return Notifier(load_config(path) if path is not None else NotifyConfig(), clock=clock)
