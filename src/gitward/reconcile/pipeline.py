"""One application, from a Git revision to a synced cluster: the pipeline in one place.

``Engine.sync`` reads top to bottom as the data flows, one stage per line::

    look   resolve → render → policy → prepare → observe → predict → plan
    write  apply → record → health

``look`` writes nothing: ``gitward diff`` stops there, and the controller looks, lets
:func:`gitward.reconcile.decide.decide` choose, and then calls ``write`` with the same
look. Each stage lives in its own module (named in each method's docstring); this
module only strings them together. ``plan`` is the one pure stage: a function call on
what the others read.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitward.apply.executor import ApplyOptions, Execution, ExecutionListener, Executor
from gitward.apply.inventory import Inventory, InventoryStore
from gitward.apply.observe import Observed, observe
from gitward.apply.predict import Prediction, PredictOptions, predict
from gitward.apply.prepare import Prepared, prepare
from gitward.apply.record import InventoryRecorder
from gitward.apply.waiting import HealthCheck, Waiter
from gitward.errors import ConflictError, GitwardError, PolicyError
from gitward.model import (
    Action,
    AppSpec,
    ChangeSet,
    DecryptionKeys,
    Health,
    HealthRule,
    HealthStatus,
    JsonObject,
    Plan,
    RepoCredentials,
    Resource,
    ResourceKey,
    Revision,
    SyncOption,
)
from gitward.model.policy import Verdict
from gitward.ports import (
    AllowAll,
    Clock,
    Cluster,
    GitSource,
    LiveView,
    PolicyCheck,
    Renderer,
    SystemClock,
)
from gitward.reconcile.decryption import app_keys
from gitward.reconcile.helmvalues import with_values_from
from gitward.reconcile.planning import plan_for
from gitward.reconcile.source import render_revision, resolve_revision
from gitward.reconcile.source_secrets import source_credentials
from gitward.reconcile.trust import TrustCheck
from gitward.reconcile.variables import app_variables

if TYPE_CHECKING:
    from gitward.observe.health import HealthEvaluator, HealthLibrary


@dataclass(frozen=True)
class SyncOptions:
    """Per-run choices; ``None`` means "as the Application's sync policy says"."""

    prune: bool | None = None
    dry_run: bool = False
    force_conflicts: bool = False
    wait: bool = True
    timeout: float = 300.0
    concurrency: int = 32
    full_compare: bool = False  # dry-run every object, ignoring the inventory's fast path
    compare: frozenset[ResourceKey] = frozenset()  # dry-run these even if as left
    only: frozenset[ResourceKey] = frozenset()  # a person's subset; empty: every object


@dataclass(frozen=True)
class Look:
    """Everything known before writing: what Git wants, what is live, what would change."""

    revision: Revision
    plan: Plan
    prepared: dict[ResourceKey, Prepared]
    inventory: Inventory
    live: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    predicted: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    errors: dict[ResourceKey, GitwardError] = field(default_factory=dict)  # dry-run refusals
    conflicts: dict[ResourceKey, ConflictError] = field(default_factory=dict)
    verdict: Verdict = field(default_factory=Verdict)  # the policy stage's (warnings only)

    @property
    def in_sync(self) -> bool:
        """Nothing to create, update, replace or prune (hooks run only with a sync)."""
        return not self.differing()

    def differing(self) -> list[ResourceKey]:
        """The objects a sync would change, in plan order."""
        quiet = (Action.UNCHANGED, Action.KEEP, Action.HOOK)
        return [s.key for s in self.plan.steps if s.action not in quiet]


@dataclass(frozen=True)
class SyncResult:
    revision: Revision
    plan: Plan
    changes: ChangeSet
    health: dict[ResourceKey, Health]
    seconds: float
    inventory: Inventory | None = None  # as recorded at the end (None: a dry run)
    verdict: Verdict = field(default_factory=Verdict)  # policy warnings; denials never sync

    @property
    def failed(self) -> bool:
        return self.changes.failed


class Engine:
    """The sync engine for one cluster. Blocking stages (Git, renderers) run in threads."""

    def __init__(
        self,
        git: GitSource,
        renderer: Renderer,
        cluster: Cluster,
        *,
        inventory: InventoryStore | None = None,
        clock: Clock | None = None,
        field_manager: str = "gitward",
        credentials: Callable[[str], RepoCredentials | None] | None = None,
        live: LiveView | None = None,
        policy: PolicyCheck | None = None,
        keys: DecryptionKeys | None = None,
    ) -> None:
        self.git = git
        self.renderer = renderer
        self.cluster = cluster
        self.inventory = inventory or InventoryStore(cluster)
        self.clock = clock or SystemClock()
        self.field_manager = field_manager
        self.credentials = credentials or (lambda _url: None)
        self.live = live
        self.policy = policy or AllowAll()
        self.keys = keys or DecryptionKeys()  # for every app; each may add its own Secret's
        self.trust = TrustCheck()  # signature verdicts, remembered per commit and keys
        self._evaluators: dict[tuple[HealthRule, ...], HealthEvaluator] = {}
        self._health_library: HealthLibrary | None = None  # None: installed_library()

    # ------------------------------------------------------------------ the pipeline

    async def sync(
        self, app: AppSpec, options: SyncOptions, listener: ExecutionListener | None = None
    ) -> SyncResult:
        """The whole pipeline: look (nothing written), then write what it planned."""
        started = self.clock.monotonic()
        # resolve, render, policy, prepare, observe, predict, plan: nothing written
        look = await self.look(app, options)
        if options.dry_run:
            elapsed = self.clock.monotonic() - started
            return SyncResult(
                look.revision, look.plan, ChangeSet(), {}, elapsed, verdict=look.verdict
            )
        # apply, record, health
        return await self.write(app, options, look, listener, started=started)

    async def look(
        self, app: AppSpec, options: SyncOptions, *, revision: Revision | None = None
    ) -> Look:
        """Resolve, render, check policy, prepare, observe, predict and plan; write nothing.

        ``revision``: already resolved (the controller resolves first: a poll may stop).
        """
        revision = revision or await self.resolve(app)
        resources = await self.render(app, revision)
        verdict = await asyncio.to_thread(self.check_policy, app, resources)
        prepared = await self.prepare(app, resources)
        observed = await self.observe(app, prepared)
        prediction = await self.predict(prepared, observed, options)
        plan = plan_for(app, prepared, observed, prediction, options.prune, only=options.only)
        return dataclasses.replace(
            _look(revision, plan, prepared, observed, prediction), verdict=verdict
        )

    async def write(
        self,
        app: AppSpec,
        options: SyncOptions,
        look: Look,
        listener: ExecutionListener | None = None,
        *,
        started: float | None = None,
    ) -> SyncResult:
        """Apply the plan of ``look`` wave by wave, record the inventory, report health."""
        started = self.clock.monotonic() if started is None else started
        recorder = self.recorder(look, listener)
        execution = await self.apply(app, options, look.plan, recorder)  # saved per wave
        inventory = await recorder.finish(execution)
        kept = frozenset(s.key for s in look.plan.steps if s.action is Action.KEEP)
        health = await self.health(app, execution, options, kept=kept)
        elapsed = self.clock.monotonic() - started
        changes = ChangeSet(tuple(execution.changes))
        return SyncResult(
            look.revision, look.plan, changes, health, elapsed, inventory, look.verdict
        )

    async def uninstall(self, app: AppSpec) -> SyncResult:
        """Delete everything the app owns (its declaration was removed and it prunes)."""
        policy = dataclasses.replace(app.sync_policy, prune=True, allow_empty=True)
        gone = dataclasses.replace(app, sync_policy=policy)
        options = SyncOptions(prune=True, wait=False)
        observed = await self.observe(gone, {})
        plan = plan_for(gone, {}, observed, Prediction(), options.prune)
        revision = Revision(app.source.repo_url, "uninstall", "")
        result = await self.write(gone, options, _look(revision, plan, {}, observed, Prediction()))
        if not result.failed:
            await self.inventory.delete(app.name)
        return result

    # ------------------------------------------------------------------ look: stages

    async def resolve(self, app: AppSpec) -> Revision:
        """Source: the commit to sync, refused unless signed when the app asks
        (:mod:`gitward.source`, :mod:`gitward.reconcile.trust`)."""
        by_url = await source_credentials(self.cluster, app, self.credentials)
        credentials = by_url(app.source.repo_url)
        revision = await resolve_revision(self.git, app, credentials)
        return await self.trust.verify(self.git, self.cluster, app, revision, credentials)

    async def render(self, app: AppSpec, revision: Revision) -> list[Resource]:
        """Render: the objects at ``revision``, for this cluster (:mod:`gitward.render`)."""
        credentials = await source_credentials(self.cluster, app, self.credentials)
        app = await with_values_from(self.cluster, app)  # Flux valuesFrom (flux hook)
        return await render_revision(
            self.git,
            self.renderer,
            app,
            revision,
            credentials(app.source.repo_url),
            kube_version=await self.cluster.server_version(),
            api_versions=tuple(await self.cluster.api_versions()),
            keys=self.keys + await app_keys(self.cluster, app),
            credentials_for=credentials,
            variables=await app_variables(self.cluster, app),  # Flux postBuild (flux hook)
        )

    def check_policy(self, app: AppSpec, resources: Sequence[Resource]) -> Verdict:
        """Policy: refuse the whole app if a rule denies an object (:class:`PolicyCheck`)."""
        verdict = self.policy.check(app, resources)
        if verdict.denied:
            raise PolicyError(
                f"{app.name}: {verdict.summary()}",
                hint="change the objects in Git, or the policy that refuses them",
                verdict=verdict,
            )
        return verdict

    async def prepare(
        self, app: AppSpec, resources: Sequence[Resource]
    ) -> dict[ResourceKey, Prepared]:
        """Prepare: bind namespaces, mark ownership, hash (:mod:`gitward.apply.prepare`)."""
        namespace = app.destination.namespace or "default"
        return {
            p.resource.key: p for p in await prepare(app.name, resources, self.cluster, namespace)
        }

    async def observe(self, app: AppSpec, prepared: Mapping[ResourceKey, Prepared]) -> Observed:
        """Observe: inventory and live objects (:mod:`gitward.apply.observe`)."""
        return await observe(self.cluster, self.inventory, self.live, app, prepared)

    async def predict(
        self, prepared: Mapping[ResourceKey, Prepared], observed: Observed, options: SyncOptions
    ) -> Prediction:
        """Predict: server-side dry-runs, unless known as left (:mod:`gitward.apply.predict`)."""
        how = PredictOptions(
            field_manager=self.field_manager,
            force_conflicts=options.force_conflicts,
            concurrency=options.concurrency,
            full_compare=options.full_compare,
            compare=options.compare,
        )
        return await predict(self.cluster, prepared, observed.live, observed.inventory, how)

    # ------------------------------------------------------------------ write: stages

    def recorder(self, look: Look, listener: ExecutionListener | None) -> InventoryRecorder:
        """Record: the inventory, after every wave and at the end (:mod:`gitward.apply.record`)."""
        return InventoryRecorder(
            self.inventory,
            field_manager=self.field_manager,
            prepared=look.prepared,
            plan=look.plan,
            inventory=look.inventory,
            listener=listener,
            live=look.live,
        )

    async def apply(
        self, app: AppSpec, options: SyncOptions, plan: Plan, recorder: InventoryRecorder
    ) -> Execution:
        """Apply: the plan's waves, with server-side apply (:mod:`gitward.apply.executor`)."""
        if app.sync_policy.enabled(SyncOption.CREATE_NAMESPACE) and not plan.in_sync:
            await self._create_namespace(app)
        check = self.health_check(app)
        apply_options = ApplyOptions(
            field_manager=self.field_manager,
            force_conflicts=options.force_conflicts,
            concurrency=options.concurrency,
            wave_timeout=options.timeout,
        )
        waiter = Waiter(self.cluster, check, self.clock)
        return await Executor(self.cluster, check, recorder, apply_options, waiter=waiter).run(plan)

    async def health(
        self,
        app: AppSpec,
        execution: Execution,
        options: SyncOptions,
        *,
        kept: frozenset[ResourceKey] = frozenset(),
    ) -> dict[ResourceKey, Health]:
        """Health: of every object the sync stored, after waiting for it if asked.

        ``kept``: objects Git no longer has but pruning leaves in place. They are reported
        as they are, never waited for: one deleted by hand would hold every sync for
        its whole timeout.
        """
        check = self.health_check(app)
        stored = dict(execution.stored)
        if options.wait and not execution.failed:
            awaited = {k: v for k, v in stored.items() if k not in kept}
            late = await Waiter(self.cluster, check, self.clock).healthy(awaited, options.timeout)
            if late:
                return {**{k: check(v) for k, v in stored.items()}, **late}
            fresh = await asyncio.gather(*(self.cluster.get(k) for k in stored))
            stored = {k: v for k, v in zip(stored, fresh, strict=True) if v is not None}
        return {k: check(v) for k, v in stored.items()}

    def live_health(self, app: AppSpec, look: Look) -> dict[ResourceKey, Health]:
        """Health of every desired object as observed by ``look`` (Missing if absent)."""
        check = self.health_check(app)
        absent = Health(HealthStatus.MISSING, "not in the cluster")
        return {
            key: check(body) if (body := look.live.get(key)) is not None else absent
            for key in look.prepared
            if not key.generated  # a hook the server names anew each sync: not deployed
        }

    def health_check(self, app: AppSpec) -> HealthCheck:
        """Per-kind health with the app's own CEL rules; evaluators are compiled once."""
        # Imported on first use: the rule library and CEL cost ~0.1 s to import, which
        # `gitward diff` and `render`, which never judge health, should not pay.
        from gitward.healthrules import installed_library  # noqa: PLC0415
        from gitward.observe.health import HealthEvaluator  # noqa: PLC0415

        if app.health_rules not in self._evaluators:
            self._evaluators[app.health_rules] = HealthEvaluator(
                app.health_rules, self._health_library or installed_library(), clock=self.clock
            )
        return self._evaluators[app.health_rules].health_of

    def use_health_library(self, library: HealthLibrary) -> None:
        """Judge health with ``library`` from now on (serve: the config repository's rules
        over the installed ones, at the config revision)."""
        self._health_library = library
        self._evaluators = {}

    async def _create_namespace(self, app: AppSpec) -> None:
        """Asked on every sync that writes: a namespace deleted by hand comes back."""
        name = app.destination.namespace
        if name and await self.cluster.get(ResourceKey("", "Namespace", "", name)) is None:
            await self.cluster.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                field_manager=self.field_manager,
            )


def _look(
    revision: Revision,
    plan: Plan,
    prepared: dict[ResourceKey, Prepared],
    observed: Observed,
    prediction: Prediction,
) -> Look:
    return Look(
        revision,
        plan,
        prepared,
        observed.inventory,
        observed.live,
        prediction.predicted,
        prediction.errors,
        prediction.conflicts,
    )
