"""One application, from a Git revision to a synced cluster: the pipeline in one place.

``Engine.sync`` reads top to bottom as the data flows: source → render → prepare →
observe live → predict → plan → apply → record. Each stage lives in its own package;
this module only strings them together, and ``Engine.diff`` stops before apply.

Prediction is where speed comes from. An object whose body hash and live
``resourceVersion`` both equal what the inventory recorded is exactly as gitward left
it: it is unchanged without any request. Everything else is dry-run with server-side
apply, so API defaulting and admission mutations never show up as differences.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitward.apply.executor import ApplyOptions, Execution, ExecutionListener, Executor
from gitward.apply.inventory import Entry, Inventory, InventoryStore, owned_fields_hash
from gitward.apply.live import owned_live, read_live
from gitward.apply.prepare import Prepared, owned_by, prepare
from gitward.apply.waiting import HealthCheck, Waiter
from gitward.errors import ConflictError, GitwardError, ImmutableFieldError, KubeError
from gitward.model import (
    Action,
    AppSpec,
    Change,
    ChangeSet,
    DecryptionKeys,
    GroupKind,
    Health,
    HealthRule,
    HealthStatus,
    JsonObject,
    Phase,
    Plan,
    RepoCredentials,
    ResourceKey,
    Revision,
    Step,
    SyncOption,
)
from gitward.model.annotations import DESIRED_HASH
from gitward.plan import PlanOptions, build_plan
from gitward.ports import (
    Clock,
    Cluster,
    GitSource,
    LiveView,
    Renderer,
    SystemClock,
)
from gitward.reconcile.decryption import app_keys
from gitward.reconcile.source import Rendered, render_app

if TYPE_CHECKING:
    from gitward.observe.health import HealthEvaluator


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


@dataclass(frozen=True)
class Planned:
    """Everything known before applying: what Git wants, what is live, what would change."""

    revision: Revision
    plan: Plan
    prepared: dict[ResourceKey, Prepared]
    inventory: Inventory
    live: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    predicted: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    errors: dict[ResourceKey, GitwardError] = field(default_factory=dict)  # dry-run refusals
    conflicts: dict[ResourceKey, ConflictError] = field(default_factory=dict)


@dataclass
class _Prediction:
    predicted: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    errors: dict[ResourceKey, GitwardError] = field(default_factory=dict)
    conflicts: dict[ResourceKey, ConflictError] = field(default_factory=dict)
    immutable: dict[ResourceKey, ImmutableFieldError] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncResult:
    revision: Revision
    plan: Plan
    changes: ChangeSet
    health: dict[ResourceKey, Health]
    seconds: float

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
        keys: DecryptionKeys | None = None,
    ) -> None:
        self.git = git
        self.renderer = renderer
        self.cluster = cluster
        self._evaluators: dict[tuple[HealthRule, ...], HealthEvaluator] = {}
        self.inventory = inventory or InventoryStore(cluster)
        self.clock = clock or SystemClock()
        self.field_manager = field_manager
        self.credentials = credentials or (lambda _url: None)
        self.live = live
        self.keys = keys or DecryptionKeys()  # for every app; each may add its own Secret's
        self._namespaces: set[str] = set()  # destination namespaces known to exist

    def health_check(self, app: AppSpec) -> HealthCheck:
        """Per-kind health with the app's own CEL rules; evaluators are compiled once."""
        # Imported on first use: the rule library and CEL cost ~0.1 s to import, which
        # `gitward diff` and `render`, which never judge health, should not pay.
        from gitward.healthrules import installed_library  # noqa: PLC0415
        from gitward.observe.health import HealthEvaluator  # noqa: PLC0415

        if app.health_rules not in self._evaluators:
            self._evaluators[app.health_rules] = HealthEvaluator(
                app.health_rules, installed_library(), clock=self.clock
            )
        return self._evaluators[app.health_rules].health_of

    # ------------------------------------------------------------------ stages

    async def render(self, app: AppSpec) -> Rendered:
        return await render_app(
            self.git,
            self.renderer,
            app,
            self.credentials(app.source.repo_url),
            kube_version=await self.cluster.server_version(),
            api_versions=tuple(await self.cluster.api_versions()),
            keys=self.keys + await app_keys(self.cluster, app),
        )

    async def plan(self, app: AppSpec, options: SyncOptions, rendered: Rendered) -> Planned:
        namespace = app.destination.namespace or "default"
        prepared = {
            p.resource.key: p
            for p in await prepare(app.name, rendered.resources, self.cluster, namespace)
        }
        inventory = await self.inventory.load(app.name)
        kinds = {k.group_kind for k in prepared if prepared[k].served}
        kinds |= {k.group_kind for k in inventory.entries}
        previous, live = await self._observe(app, prepared, inventory, kinds)
        prediction = await self._predict(prepared, live, inventory, options)
        policy = app.sync_policy
        plan_options = PlanOptions(
            prune=policy.prune if options.prune is None else options.prune,
            allow_empty=policy.allow_empty,
            prune_last=policy.enabled(SyncOption.PRUNE_LAST),
            ignore_differences=app.ignore_differences,
            replace=policy.enabled(SyncOption.REPLACE),
        )
        plan = build_plan(
            [p.resource for p in prepared.values()],
            live,
            prediction.predicted,
            previous,
            plan_options,
            immutable_failures=set(prediction.immutable),
        )
        return Planned(
            rendered.revision,
            plan,
            prepared,
            inventory,
            live,
            prediction.predicted,
            prediction.errors,
            prediction.conflicts,
        )

    async def _observe(
        self,
        app: AppSpec,
        prepared: Mapping[ResourceKey, Prepared],
        inventory: Inventory,
        kinds: set[GroupKind],
    ) -> tuple[set[ResourceKey], dict[ResourceKey, JsonObject]]:
        """Prune candidates and live bodies: from the watch cache when it has every kind
        (no request at all), else with a few LISTs and GETs."""
        served = [k for k, p in prepared.items() if p.served]
        by_manager = any(rule.managed_fields_managers for rule in app.ignore_differences)
        if self.live is not None and not by_manager and all(self.live.synced(k) for k in kinds):
            owned = {ResourceKey.of(o): o for o in self.live.objects(app.name)}
            previous = inventory.keys() | {k for k, v in owned.items() if owned_by(app.name, v)}
            # Unlabelled objects are not in the cache; an apply adopts them anyway.
            return previous, {k: owned[k] for k in (*served, *previous) if k in owned}
        owned = await owned_live(self.cluster, app.name, kinds)
        previous = inventory.keys() | {k for k, v in owned.items() if owned_by(app.name, v)}
        live = await read_live(self.cluster, [*served, *(previous - prepared.keys())], owned)
        return previous, live

    async def uninstall(self, app: AppSpec) -> SyncResult:
        """Delete everything the app owns (its declaration was removed and it prunes)."""
        policy = dataclasses.replace(app.sync_policy, prune=True, allow_empty=True)
        gone = dataclasses.replace(app, sync_policy=policy)
        revision = Revision(app.source.repo_url, "uninstall", "")
        planned = await self.plan(gone, SyncOptions(prune=True), Rendered(revision, []))
        result = await self.execute(gone, SyncOptions(prune=True, wait=False), planned)
        if not result.failed:
            await self.inventory.delete(app.name)
        return result

    async def _predict(
        self,
        prepared: Mapping[ResourceKey, Prepared],
        live: Mapping[ResourceKey, JsonObject],
        inventory: Inventory,
        options: SyncOptions,
    ) -> _Prediction:
        """What the server would store for each existing object (dry-run unless known).

        A conflict with another field manager does not hide the difference: the object is
        dry-run again with force to show what a forced sync would do, and the conflict
        is kept to be reported.
        """
        result = _Prediction()
        slots = asyncio.Semaphore(options.concurrency)

        async def dry_run(key: ResourceKey, force: bool) -> None:
            body = prepared[key].resource.body
            retry_forced = False
            async with slots:
                try:
                    result.predicted[key] = await self.cluster.apply(
                        body, field_manager=self.field_manager, force=force, dry_run=True
                    )
                except ConflictError as e:
                    result.conflicts[key] = e
                    retry_forced = not force
                except ImmutableFieldError as e:
                    result.immutable[key] = e  # the plan says REPLACE, or why it will fail
                except KubeError as e:
                    result.errors[key] = e
            if retry_forced:  # outside the slot: never wait for a slot while holding one
                await dry_run(key, True)

        todo = []
        for key, item in prepared.items():
            current = live.get(key)
            if current is None or not item.served:
                continue  # to be created: nothing to compare with
            if not options.full_compare and _as_left(
                current, item, inventory.entries.get(key), self.field_manager
            ):
                result.predicted[key] = current  # exactly as gitward left it
            else:
                todo.append(key)
        await asyncio.gather(*(dry_run(k, options.force_conflicts) for k in todo))
        return result

    # ------------------------------------------------------------------ the pipeline

    async def sync(
        self, app: AppSpec, options: SyncOptions, listener: ExecutionListener | None = None
    ) -> SyncResult:
        """The whole pipeline: source, render, prepare, live, predict, plan, apply, record."""
        started = time.monotonic()
        rendered = await self.render(app)
        planned = await self.plan(app, options, rendered)
        if options.dry_run:
            return SyncResult(
                rendered.revision, planned.plan, ChangeSet(), {}, time.monotonic() - started
            )
        return await self.execute(app, options, planned, listener, started=started)

    async def execute(
        self,
        app: AppSpec,
        options: SyncOptions,
        planned: Planned,
        listener: ExecutionListener | None = None,
        *,
        started: float | None = None,
    ) -> SyncResult:
        """Apply a plan made by :meth:`plan`, record the inventory, report health."""
        started = time.monotonic() if started is None else started
        if app.sync_policy.enabled(SyncOption.CREATE_NAMESPACE):
            await self._create_namespace(app)
        recorder = _Recorder(self, app, planned, listener)
        health = self.health_check(app)
        waiter = Waiter(self.cluster, health, self.clock)
        executor = Executor(
            self.cluster,
            health,
            recorder,
            ApplyOptions(
                field_manager=self.field_manager,
                force_conflicts=options.force_conflicts,
                concurrency=options.concurrency,
                wave_timeout=options.timeout,
            ),
            waiter=waiter,
        )
        execution = await executor.run(planned.plan)
        await recorder.finish(execution)
        final = await self._final_health(execution, waiter, health, options)
        return SyncResult(
            planned.revision,
            planned.plan,
            ChangeSet(tuple(execution.changes)),
            final,
            time.monotonic() - started,
        )

    def live_health(self, app: AppSpec, planned: Planned) -> dict[ResourceKey, Health]:
        """Health of every desired object as observed while planning (Missing if absent)."""
        check = self.health_check(app)
        result = {}
        for key in planned.prepared:
            if key.generated:
                continue  # a hook the server names anew each sync: not a deployed object
            body = planned.live.get(key)
            result[key] = (
                check(body)
                if body is not None
                else Health(HealthStatus.MISSING, "not in the cluster")
            )
        return result

    async def _create_namespace(self, app: AppSpec) -> None:
        name = app.destination.namespace
        if not name or name in self._namespaces:
            return
        self._namespaces.add(name)
        if await self.cluster.get(ResourceKey("", "Namespace", "", name)) is None:
            await self.cluster.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                field_manager=self.field_manager,
            )

    async def _final_health(
        self, execution: Execution, waiter: Waiter, health: HealthCheck, options: SyncOptions
    ) -> dict[ResourceKey, Health]:
        stored = dict(execution.stored)
        if options.wait and not execution.failed:
            late = await waiter.healthy(stored, options.timeout)
            if late:
                return {**{k: health(v) for k, v in stored.items()}, **late}
            fresh = await asyncio.gather(*(self.cluster.get(k) for k in stored))
            stored = {k: v for k, v in zip(stored, fresh, strict=True) if v is not None}
        return {k: health(v) for k, v in stored.items()}


def _as_left(live: JsonObject, item: Prepared, entry: Entry | None, manager: str) -> bool:
    """True if ``live`` is exactly as gitward left it after applying ``item``.

    It carries the hash of what Git wants now, and gitward still owns the same fields
    as right after its apply (a field changed by hand has moved to another manager).
    """
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    if entry is None or not entry.fields_hash or annotations.get(DESIRED_HASH) != item.desired_hash:
        return False
    return owned_fields_hash(live, manager) == entry.fields_hash


class _Recorder:
    """Persists the inventory after every wave, and relays progress to the listener."""

    def __init__(
        self, engine: Engine, app: AppSpec, planned: Planned, listener: ExecutionListener | None
    ) -> None:
        self.engine = engine
        self.app = app
        self.planned = planned
        self.listener = listener
        self.saved = planned.inventory
        self.hooks = {s.key for s in planned.plan.steps if s.action is Action.HOOK}

    def wave_started(self, phase: Phase, wave: int, steps: Sequence[Step]) -> None:
        if self.listener:
            self.listener.wave_started(phase, wave, steps)

    def object_done(self, change: Change) -> None:
        if self.listener:
            self.listener.object_done(change)

    async def wave_done(
        self, phase: Phase, wave: int, stored: dict[ResourceKey, JsonObject]
    ) -> None:
        await self._save(stored, removed=())
        if self.listener:
            await self.listener.wave_done(phase, wave, stored)

    async def finish(self, execution: Execution) -> None:
        inventory = await self._save({}, removed=execution.pruned, final=not execution.failed)
        self.saved = inventory

    async def _save(
        self,
        stored: Mapping[ResourceKey, JsonObject],
        removed: Sequence[ResourceKey],
        final: bool = False,
    ) -> Inventory:
        entries = {}
        for key, body in stored.items():
            item = self.planned.prepared.get(key)
            if item is None or key in self.hooks:
                continue
            fields = owned_fields_hash(body, self.engine.field_manager)
            if fields or key not in self.saved.entries:
                entries[key] = Entry(item.resource.api_version, fields)
        updated = self.saved.with_entries(entries, removed)
        await self.engine.inventory.save(updated, self.saved)
        self.saved = updated
        return updated
