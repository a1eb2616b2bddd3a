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
from gitward.errors import UnknownKindError
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
        live: Mapping[ResourceKey, JsonObject] | None = None,
    ) -> None:
        self.store = store
        self.live = live or {}
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
        since those objects are gone); after a success, every desired object is owned.

        Both halves also repair what a crash left behind: objects a killed sync applied
        after its last inventory write are unchanged for the next sync, which applies
        nothing and so would never record them; objects it pruned before it could say so
        are gone, so no later plan prunes them again to drop them from the inventory.
        """
        unseen = [
            key
            for key in self.saved.entries
            if key not in self.prepared and key not in self.live and key not in execution.stored
        ]
        # The look may have read a watch cache, which sees only labelled objects: ask.
        gone = [key for key in unseen if await self._gone(key)]
        unrecorded = {}
        if not execution.failed:
            for key, body in self.live.items():
                item = self.prepared.get(key)
                if item is None or key in self.hooks or key in self.saved.entries:
                    continue
                if key in execution.stored or key in execution.pruned:
                    continue
                fields = owned_fields_hash(body, self.field_manager)
                unrecorded[key] = Entry(item.resource.api_version, fields)
        return await self._save({}, removed=[*execution.pruned, *gone], extra=unrecorded)

    async def _gone(self, key: ResourceKey) -> bool:
        try:
            return await self.store.cluster.get(key) is None
        except UnknownKindError:
            return True  # its kind is no longer served: no such object can exist

    async def _save(
        self,
        stored: Mapping[ResourceKey, JsonObject],
        removed: Sequence[ResourceKey],
        extra: Mapping[ResourceKey, Entry] | None = None,
    ) -> Inventory:
        entries = dict(extra or {})
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
