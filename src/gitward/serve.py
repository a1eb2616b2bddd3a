"""``gitward serve``: the long-running controller with its HTTP API, in one process.

Startup, in order: the state directory and admin token; the store (SQLite in the state
directory unless ``--db`` names PostgreSQL), with syncs a crash left running marked
Interrupted; the declarations (a folder, or a path in Git that is itself reconciled);
one Kubernetes client and one watch-fed live cache per cluster; the controller; and the
HTTP server on the listen address (127.0.0.1 by default). SIGTERM or SIGINT stops it all
in reverse order.

Every adapter is built by :mod:`gitward.compose` from one :class:`compose.Settings`
(:meth:`ServeSettings.compose`): this module never imports ``kube`` or ``store``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from gitward import compose, sharing
from gitward.api.auth import (
    authenticator,
    ensure_admin_token,
    read_mounted_token,
)
from gitward.api.listener import Listener
from gitward.api.roles import RoleSource, load_role_policy
from gitward.api.server import ApiContext, create_app
from gitward.api.webhooks import normalize_repo_url
from gitward.appsets.expand import AppSets
from gitward.connections import Connections, Wiring, cluster_of
from gitward.errors import ConfigError, GitwardError
from gitward.fleet.manager import Fleet
from gitward.ha.replica import HaSettings, Replica
from gitward.healthrules import installed_library
from gitward.imageauto.service import start_image_automation
from gitward.model import AppSpec, DecryptionKeys, GroupKind, JsonObject, RepoCredentials
from gitward.model.history import Trigger
from gitward.observe.health import HealthLibrary
from gitward.ports import Cluster, SystemClock
from gitward.reconcile.children import AppOfApps
from gitward.reconcile.config import ConfigLocation, ConfigSource, Loaded
from gitward.reconcile.controller import Controller, ControllerSettings
from gitward.reconcile.metrics import Metrics, TimedGit
from gitward.reconcile.pipeline import Engine
from gitward.reconcile.rollback import Rollbacks
from gitward.source.fetch_process import DEFAULT_FETCH_TIMEOUT
from gitward.spec.declarations import Declarations
from gitward.toolchain import default_cache_dir
from gitward.ui.server import UiServer, UiSettings

log = logging.getLogger("gitward.serve")


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "server"


@dataclass(frozen=True)
class ServeSettings:
    config: ConfigLocation
    state_dir: Path = field(default_factory=default_state_dir)
    host: str = "127.0.0.1"
    port: int = 8080
    db_url: str | None = None
    kubeconfig: str | None = None
    context: str | None = None
    webhook_secret_file: Path | None = None
    admin_token_file: Path | None = None  # e.g. a Secret's key mounted in the pod
    poll_interval: float = 180.0
    workers: int = 4
    cache_dir: Path | None = None
    git_timeout: float = DEFAULT_FETCH_TIMEOUT
    keys: DecryptionKeys = field(default_factory=DecryptionKeys)  # --decryption-key-file
    credentials: RepoCredentials | None = None
    field_manager: str = "gitward"
    inventory_namespace: str = "gitward-system"
    policies: tuple[Path, ...] = ()  # --policy: local files, loaded once
    policy_path: str | None = None  # --policy-path: a folder of the config location
    notifications: Path | None = None  # --notifications FILE (docs/notifications.md)
    tokens_file: Path | None = None  # --tokens-file: more API tokens (digests) and roles
    roles_file: Path | None = None  # --roles: added to the config repo's RolePolicy
    ui: UiSettings | None = None  # --ui-listen: the web UI on its own listener
    ha: HaSettings | None = None  # --ha: one of several replicas (docs/ha.md)

    def compose(self) -> compose.Settings:
        """The one settings object every adapter of the service is built from."""
        return compose.Settings(
            kubeconfig=self.kubeconfig,
            context=self.context,
            cache_dir=self.cache_dir,
            credentials=self.credentials,
            field_manager=self.field_manager,
            inventory_namespace=self.inventory_namespace,
            state_dir=self.state_dir,
            git_timeout=self.git_timeout,
            keys=self.keys,
            ha=self.ha,
        )


class Service:
    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.clock = SystemClock()
        self.metrics = Metrics()
        self.adapters = settings.compose()
        self.declarations = Declarations()
        self.fleet = Fleet()  # targeted apps as instances per cluster, staged rollouts
        self.config_revision = ""
        self.ready_reason = "starting"
        self._health_rules: tuple[object, object] | None = None  # as last loaded
        self.health_library: HealthLibrary | None = None  # None: installed_library()
        self.health_warnings: list[str] = []  # rule files that did not load
        self._tasks: list[asyncio.Task[None]] = []
        self._http: Listener | None = None
        self.ui: UiServer | None = None
        self.token_path: Path | None = None
        self.port = settings.port
        self.replica: Replica | None = None

    # ------------------------------------------------------------------ startup

    async def start(self) -> None:
        s, adapters = self.settings, self.adapters
        s.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if s.admin_token_file is not None:
            self.token_path, _ = read_mounted_token(s.admin_token_file)
            log.info("admin API token in %s", s.admin_token_file)
        else:
            self.token_path, created = ensure_admin_token(s.state_dir)
            log.info("admin API token %s: %s", "created" if created else "in", self.token_path)
        self.roles = RoleSource(load_role_policy(s.roles_file))  # + the config repo's
        self.store = await compose.store(adapters, self.clock, s.db_url)
        self.replica = compose.replica(adapters, self.store, self.clock, lambda: self.controller)
        self.git = TimedGit(compose.git_source(adapters), self.metrics)
        self.children = AppOfApps(  # app-of-apps: children found in renders adopted by reload
            lambda: self.controller.apps, self.reload, asyncio.get_running_loop()
        )
        self.renderer = self.children.renderer(compose.renderer(cache_dir=adapters.cache_dir))
        self.config = ConfigSource(s.config, self.git)
        self.appsets = AppSets(self.git)
        self.policy = compose.policy_source(
            s.policies,
            s.policy_path,
            s.config,
            self.git,
            projects=lambda: self.declarations.projects,
        )
        self.connections = Connections(
            Wiring(
                adapters,
                self.git,
                self.renderer,
                self.clock,
                self.metrics,
                self.policy,
                on_event=self._live_event,
                on_recovered=self._cluster_recovered,
            )
        )
        settings = ControllerSettings(
            poll_interval=s.poll_interval, workers=s.workers, field_manager=s.field_manager
        )
        self.notifier = compose.notifier(s.notifications, self.clock)
        await self.notifier.start()
        self.controller = Controller(
            self.engine_for,
            self.store,
            self.clock,
            settings,
            metrics=self.metrics,
            track=self.track,
            listener=self.notifier,
            shard=self.replica,
            hold=lambda spec, sha: self.fleet.hold(spec, sha, self.controller.status),
        )
        self.controller.steps.is_parent = self.children.is_parent  # app-of-apps health
        await self.reload()
        self._tasks += await sharing.start(self.replica, self.store, self.controller)  # --ha
        await self.controller.start()
        self._tasks.append(asyncio.create_task(self._reload_loop(), name="config-reload"))
        cache = self.adapters.cache_dir or default_cache_dir()
        self._tasks.append(start_image_automation(cache, self.adapters.credentials, self))
        await self._start_http()
        self.ready_reason = ""

    def _webhook_secret(self) -> bytes | None:
        path = self.settings.webhook_secret_file
        if path is None:
            return None
        try:
            return path.read_bytes().strip()
        except OSError as e:
            raise ConfigError(f"cannot read --webhook-secret-file {path}: {e.strerror}") from e

    async def _start_http(self) -> None:
        context = ApiContext(
            apps=self.controller,
            store=self.store,
            authenticator=authenticator(self.token_path, self.settings.tokens_file),
            metrics=self.metrics,
            rollbacks=Rollbacks(
                self.controller,
                self.store,
                self.git,
                self.engine_for,
                credentials=lambda _url: self.adapters.credentials,
            ),
            webhook_secret=self._webhook_secret(),
            ready=lambda: self.ready_reason or self.store.problem or sharing.problem(self.replica),
            warnings=lambda: [
                *self.health_warnings,
                *self.roles.warnings(),
                *self.appsets.warnings(),
                *self.fleet.warnings(),
            ],
            on_config_push=self._config_pushed,
            clusters=self.connections.entries,
            fleet=lambda: self.fleet.view(self.controller.status),
            roles=self.roles,
        )
        self._http = Listener(
            create_app(context), self.settings.host, self.settings.port, name="http"
        )
        self.port = await self._http.start()
        log.info("listening on http://%s:%d", self.settings.host, self.port)
        if self.settings.ui is not None:
            self.ui = await UiServer.start_for(self, self.settings.ui, context)

    # ------------------------------------------------------------------ clusters

    def home_cluster(self) -> Cluster:
        """The cluster gitward runs in (the default one): where Flux's image Secrets live."""
        return self.connections.connect("").engine.cluster

    def _connection(self, spec: AppSpec) -> compose.Connection:
        """The cluster ``spec`` deploys to, connected (and watched) on first use."""
        return self.connections.connect(cluster_of(spec))

    def _cluster_recovered(self, name: str) -> None:
        """A cluster answers again: look at its apps now, not at their next backoff. With
        ``--ha`` only this replica's own: every replica sees the cluster come back, and
        forwarding the others' would write one store row per app at the same moment."""
        for app in self.controller.names():
            if self.replica is not None and not self.replica.owns(app):
                continue
            if cluster_of(self.controller.declared(app)) == name:
                self.controller.trigger(app, Trigger.REFRESH)

    def engine_for(self, spec: AppSpec) -> Engine:
        return self._connection(spec).engine

    async def track(self, spec: AppSpec, kinds: set[GroupKind]) -> None:
        await self._connection(spec).track(kinds)

    async def _live_event(self, kind: str, obj: JsonObject) -> None:
        self.controller.on_live_event(kind, obj)

    # ------------------------------------------------------------------ declarations

    async def reload(self) -> None:
        loaded = await self.config.load()
        self.declarations = loaded.declarations
        self.connections.update(loaded.declarations.clusters)
        self.config_revision = loaded.revision.sha if loaded.revision else ""
        self.roles.use(loaded.declarations.roles, self.config_revision)
        changed = self._use_health_rules(loaded)
        sets = self.children.with_sets(loaded.declarations)  # and sets parents render
        apps = loaded.declarations.apps | await self.appsets.generate(sets)
        apps = self.fleet.expand(loaded.declarations, apps)  # one instance per (app, cluster)
        apps |= self.children.children(apps)  # app-of-apps children (reconcile/children.py)
        await self.controller.set_apps(apps, uninstall=self._uninstall)
        self.connections.drop_undeclared()
        if changed:  # judge every app again with the new rules; nothing is synced for it
            for name in self.controller.names():
                self.controller.trigger(name, Trigger.HEALTH)
        log.info(
            "loaded %d applications and %d clusters from %s",
            len(apps),
            len(loaded.declarations.clusters),
            self.settings.config,
        )

    def _use_health_rules(self, loaded: Loaded) -> bool:
        """The config repository's health rules over the installed ones; True if changed.

        A rule file that does not load is logged, named with its line, and shown by
        ``/readyz`` (which stays ready: every other rule is in use).
        """
        if self.settings.config.health_rules is None:
            return False
        rules = (loaded.health_rules, loaded.rule_errors)
        if rules == self._health_rules:
            return False
        first = self._health_rules is None
        self._health_rules = rules
        library = installed_library().with_rules(*rules)
        self.health_library = library
        self.health_warnings = [  # one line each: CEL's errors draw a caret under the typo
            "health rule not loaded: " + str(e).replace("\n", " ") for e in library.errors
        ]
        for warning in self.health_warnings:
            log.error("%s", warning)
        self.connections.use_health_library(library)
        log.info("health rules: %d from the config repository", len(loaded.health_rules))
        return not first

    async def _uninstall(self, spec: AppSpec) -> None:
        owner = self.replica is None or self.replica.owns(spec.name)  # --ha: the owner only
        if spec.sync_policy.prune and owner and not self.appsets.preserves(spec):
            await self.engine_for(spec).uninstall(spec)

    async def _reload_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_interval)
            try:
                await self.reload()
            except GitwardError as e:
                log.error("reloading the declarations failed: %s", e)  # noqa: TRY400 - a known failure, no traceback

    async def _config_pushed(self, repo_urls: frozenset[str]) -> bool:
        config = self.settings.config.repo_url  # repo_urls come normalized (host:port/path)
        if not self.appsets.reads(repo_urls, normalize_repo_url, also=(config,)):
            return False  # neither the declarations nor a generator's Git repository
        await self.reload()
        return True

    # ------------------------------------------------------------------ shutdown

    async def stop(self) -> None:
        self.ready_reason = "stopping"
        if self.replica is not None and hasattr(self, "controller"):  # first: hand apps over
            await sharing.hand_over(self.replica, self.controller, self.store)
        if self.ui is not None:
            await self.ui.stop()
        if self._http is not None:
            await self._http.stop()
        if hasattr(self, "controller"):  # start() may have failed before creating it
            await self.controller.stop()
        if hasattr(self, "notifier"):
            await self.notifier.stop()
        if hasattr(self, "children"):
            self._tasks += self.children.close()  # a reload adopting children
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if hasattr(self, "connections"):
            await self.connections.close()
        if hasattr(self, "store"):
            await self.store.close()
        if hasattr(self, "policy"):
            self.policy.close()  # the OPA server, if Rego policies started one


async def run(
    settings: ServeSettings, on_ready: Callable[[Service], Awaitable[None]] | None = None
) -> None:
    """Run until SIGTERM or SIGINT."""
    service = Service(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await service.start()
        if on_ready is not None:
            await on_ready(service)
        await stop.wait()
    finally:
        await service.stop()
