"""Execute a plan against one cluster, phase by phase and wave by wave.

The recipe:

1. For each phase (PreSync, Sync, PostSync) and each wave in it, in order:
   apply the wave's objects in batches of equal kind rank (Namespaces and CRDs first,
   each batch in parallel, at most ``concurrency`` requests in flight); hooks run and
   are awaited; CRDs must be Established and Namespaces Active before the next batch.
2. Before the next wave starts, every object of this wave must be healthy.
3. Prune what Git no longer holds (after the Sync phase, or at the very end with
   PruneLast), in reverse order, with the chosen propagation policy.
4. If anything failed, stop after the failing wave and run the SyncFail hooks.

Each finished wave is reported through ``on_wave_done`` so the caller can persist the
inventory: a crash loses at most the wave in flight, and a re-run continues safely.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gitward.apply.waiting import HealthCheck, Waiter
from gitward.errors import GitwardError, KubeError
from gitward.model import (
    PHASE_ORDER,
    Action,
    Change,
    HookDeletePolicy,
    JsonObject,
    Outcome,
    Phase,
    Plan,
    ResourceKey,
    Step,
)
from gitward.model.annotations import APP_LABEL, HOOK_ID_LABEL
from gitward.plan import kind_rank
from gitward.ports import Cluster


@dataclass(frozen=True)
class ApplyOptions:
    field_manager: str = "gitward"
    force_conflicts: bool = False
    concurrency: int = 32
    wave_timeout: float = 300.0
    hook_timeout: float = 600.0
    prune_propagation: str = "Background"


class ExecutionListener(Protocol):
    """Hears about progress, for a person (CLI) and for persistence (inventory)."""

    def wave_started(self, phase: Phase, wave: int, steps: Sequence[Step]) -> None: ...

    def object_done(self, change: Change) -> None: ...

    async def wave_done(
        self, phase: Phase, wave: int, stored: dict[ResourceKey, JsonObject]
    ) -> None: ...


@dataclass
class Execution:
    """What happened, accumulated while the plan runs."""

    changes: list[Change] = field(default_factory=list)
    stored: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    pruned: list[ResourceKey] = field(default_factory=list)
    failed: bool = False


class Executor:
    def __init__(
        self,
        cluster: Cluster,
        health: HealthCheck,
        listener: ExecutionListener,
        options: ApplyOptions,
        *,
        waiter: Waiter,
    ) -> None:
        self.cluster = cluster
        self.health = health
        self.listener = listener
        self.options = options
        self.waiter = waiter
        self._slots = asyncio.Semaphore(options.concurrency)

    async def run(self, plan: Plan) -> Execution:
        result = Execution()
        waves = [
            (phase, wave, steps)
            for phase in PHASE_ORDER
            if phase is not Phase.SYNC_FAIL
            for wave, steps in plan.waves(phase)
        ]
        for index, (phase, wave, steps) in enumerate(waves):
            # A wave must be healthy before the next starts; after the last one, waiting
            # for health is the caller's choice (``gitward sync --wait``).
            await self._wave(phase, wave, steps, result, gate=index < len(waves) - 1)
            if result.failed:
                break
            next_phase = waves[index + 1][0] if index + 1 < len(waves) else None
            if phase is Phase.SYNC and next_phase is not Phase.SYNC and not plan.prune_last:
                await self._prune(plan.prunes, result)
        if not any(p is Phase.SYNC for p, _, _ in waves) and not plan.prune_last:
            await self._prune(plan.prunes, result)  # nothing left to apply: prune anyway
        if not result.failed and plan.prune_last:
            await self._prune(plan.prunes, result)
        if result.failed:
            for wave, steps in plan.waves(Phase.SYNC_FAIL):
                await self._wave(Phase.SYNC_FAIL, wave, steps, result, gate=False)
        return result

    async def _wave(
        self, phase: Phase, wave: int, steps: list[Step], result: Execution, *, gate: bool = True
    ) -> None:
        self.listener.wave_started(phase, wave, steps)
        stored: dict[ResourceKey, JsonObject] = {}
        batches = itertools.groupby(steps, key=lambda s: kind_rank(s.key.group_kind))
        for _, batch in batches:
            changes = await asyncio.gather(*(self._step(s, stored) for s in batch))
            for change in changes:
                result.changes.append(change)
                self.listener.object_done(change)
            if any(c.outcome in (Outcome.FAILED, Outcome.HOOK_FAILED) for c in changes):
                result.failed = True
            await self.waiter.prerequisites(stored)
        result.stored.update(stored)
        if gate and not result.failed:
            degraded = await self.waiter.healthy(stored, self.options.wave_timeout)
            for key, health in degraded.items():
                change = Change(key, Outcome.FAILED, f"not healthy: {health}", health, phase, wave)
                result.changes.append(change)
                self.listener.object_done(change)
                result.failed = True
        await self.listener.wave_done(phase, wave, stored)

    async def _step(self, step: Step, stored: dict[ResourceKey, JsonObject]) -> Change:
        async with self._slots:
            try:
                return await self._do(step, stored)
            except GitwardError as e:
                return Change(step.key, Outcome.FAILED, str(e), None, step.phase, step.wave)

    async def _do(self, step: Step, stored: dict[ResourceKey, JsonObject]) -> Change:
        if step.action in (Action.UNCHANGED, Action.KEEP):
            if step.live is not None:
                stored[step.key] = step.live
            return Change(
                step.key,
                Outcome.UNCHANGED if step.action is Action.UNCHANGED else Outcome.SKIPPED,
                step.reason,
                None,
                step.phase,
                step.wave,
            )
        if step.action is Action.HOOK:
            return await self._hook(step, stored)
        if step.action is Action.REPLACE:
            await self._delete_and_wait(step.key, "Foreground")
        body = self._apply_body(step)
        stored[step.key] = await self.cluster.apply(
            body, field_manager=self.options.field_manager, force=self.options.force_conflicts
        )
        outcome = {Action.CREATE: Outcome.CREATED, Action.REPLACE: Outcome.REPLACED}.get(
            step.action, Outcome.CONFIGURED
        )
        return Change(step.key, outcome, step.reason, None, step.phase, step.wave)

    def _apply_body(self, step: Step) -> JsonObject:
        if step.desired is None:
            raise KubeError("nothing to apply", subject=str(step.key))
        return step.desired.body

    async def _hook(self, step: Step, stored: dict[ResourceKey, JsonObject]) -> Change:
        """Run a hook: (re)create it, wait until it finished, clean up as its policy says.

        A hook with a fixed name is applied (server-side apply, forced). A hook named by
        the server (``generateName``) is created anew with a POST on every sync; its
        ``BeforeHookCreation`` deletes the objects of earlier runs, found by the hook-id
        label gitward put on them. Either way the hook is never compared or pruned.
        """
        policies = step.hook_delete_policies or (HookDeletePolicy.BEFORE_HOOK_CREATION,)
        body = self._apply_body(step)
        key = step.key
        if key.generated:
            if HookDeletePolicy.BEFORE_HOOK_CREATION in policies:
                await self._delete_earlier_runs(body)
            created = await self.cluster.create(body, field_manager=self.options.field_manager)
            key = ResourceKey.of(created)
        else:
            if HookDeletePolicy.BEFORE_HOOK_CREATION in policies:
                await self._delete_and_wait(key, "Foreground")
            await self.cluster.apply(body, field_manager=self.options.field_manager, force=True)
        live, health = await self.waiter.finished(key, self.options.hook_timeout)
        stored[key] = live
        succeeded = health.status == "Healthy"
        if (succeeded and HookDeletePolicy.HOOK_SUCCEEDED in policies) or (
            not succeeded and HookDeletePolicy.HOOK_FAILED in policies
        ):
            await self.cluster.delete(key, propagation="Foreground")
        outcome = Outcome.HOOK_SUCCEEDED if succeeded else Outcome.HOOK_FAILED
        return Change(key, outcome, health.message, health, step.phase, step.wave)

    async def _delete_earlier_runs(self, body: JsonObject) -> None:
        """Delete, and wait for, the objects earlier syncs created for this hook."""
        key = ResourceKey.of(body)
        labels = body["metadata"]["labels"]
        selector = f"{APP_LABEL}={labels[APP_LABEL]},{HOOK_ID_LABEL}={labels[HOOK_ID_LABEL]}"
        earlier = await self.cluster.list(
            key.group, key.kind, namespace=key.namespace or None, labels=selector
        )
        await asyncio.gather(
            *(self._delete_and_wait(ResourceKey.of(obj), "Foreground") for obj in earlier)
        )

    async def _delete_and_wait(self, key: ResourceKey, propagation: str) -> None:
        if await self.cluster.delete(key, propagation=propagation):
            await self.waiter.gone(key, self.options.wave_timeout)

    async def _prune(self, steps: Sequence[Step], result: Execution) -> None:
        for _, batch in itertools.groupby(
            reversed(steps), key=lambda s: kind_rank(s.key.group_kind)
        ):
            changes = await asyncio.gather(*(self._prune_one(s) for s in batch))
            for change in changes:
                result.changes.append(change)
                self.listener.object_done(change)
                if change.outcome is Outcome.PRUNED:
                    result.pruned.append(change.key)
                elif change.outcome is Outcome.FAILED:
                    result.failed = True

    async def _prune_one(self, step: Step) -> Change:
        async with self._slots:
            try:
                await self.cluster.delete(step.key, propagation=self.options.prune_propagation)
            except GitwardError as e:
                return Change(step.key, Outcome.FAILED, f"prune failed: {e}", None, step.phase)
        return Change(step.key, Outcome.PRUNED, step.reason, None, step.phase, step.wave)
