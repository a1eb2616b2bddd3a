"""Record: keep the inventory current while a plan runs, so a crash orphans nothing.

Before: :class:`gitward.apply.executor.Executor`, which reports each finished wave
here. After: the next sync reads the inventory back in :mod:`gitward.apply.observe`.

After every wave the objects it stored are added (with the hash of the field set
gitward owns on each, see :mod:`gitward.apply.inventory`); when the plan is done the
pruned objects are removed. A crash therefore loses at most the wave in flight, and
the objects it applied still carry the app's label, so the next sync finds them. The
inventory is written only when it changed: a sync of changed values writes none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gitward.apply.executor import Execution, ExecutionListener
from gitward.apply.inventory import Entry, Inventory, InventoryStore, owned_fields_hash
from gitward.apply.prepare import Prepared
from gitward.model import Action, Change, JsonObject, Phase, Plan, ResourceKey, Step


class InventoryRecorder:
    """An :class:`ExecutionListener` that persists the inventory and relays progress."""

    def __init__(
        self,
        store: InventoryStore,
        *,
        field_manager: str,
        prepared: Mapping[ResourceKey, Prepared],
        plan: Plan,
        inventory: Inventory,
        listener: ExecutionListener | None = None,
    ) -> None:
        self.store = store
        self.field_manager = field_manager
        self.prepared = prepared
        self.listener = listener
        self.saved = inventory
        self.hooks = {s.key for s in plan.steps if s.action is Action.HOOK}

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

    async def finish(self, execution: Execution) -> Inventory:
        """The last write: what the plan pruned is no longer owned (also after a failure,
        since those objects are gone)."""
        return await self._save({}, removed=execution.pruned)

    async def _save(
        self, stored: Mapping[ResourceKey, JsonObject], removed: Sequence[ResourceKey]
    ) -> Inventory:
        entries = {}
        for key, body in stored.items():
            item = self.prepared.get(key)
            if item is None or key in self.hooks:
                continue  # hooks are created fresh each sync: never owned, never pruned
            fields = owned_fields_hash(body, self.field_manager)
            if fields or key not in self.saved.entries:
                entries[key] = Entry(item.resource.api_version, fields)
        updated = self.saved.with_entries(entries, removed)
        await self.store.save(updated, self.saved)
        self.saved = updated
        return updated
