"""Observe: what is live now for one app, and what it owned before (prune candidates).

Before: :func:`gitward.apply.prepare.prepare` (the desired objects, bound to their
namespaces). After: :mod:`gitward.apply.predict` and :func:`gitward.plan.build_plan`.

Two ways to read the cluster, same answer. When the watch-fed cache (a
:class:`gitward.ports.LiveView`) has listed every kind involved, the live bodies come
from memory and observing costs no request beyond the inventory. Otherwise one labelled
LIST per kind finds what the app owns, and :func:`gitward.apply.live.read_live` fetches
the rest with few requests. Apps that ignore differences by field manager always read
from the API: the cache keeps no other manager's ``managedFields``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gitward.apply.inventory import Inventory, InventoryStore
from gitward.apply.live import owned_live, read_live
from gitward.apply.prepare import Prepared, owned_by
from gitward.model import AppSpec, GroupKind, JsonObject, ResourceKey
from gitward.ports import Cluster, LiveView


@dataclass(frozen=True)
class Observed:
    """The live side of a plan."""

    inventory: Inventory  # what the last sync recorded
    previous: frozenset[ResourceKey]  # owned before: the inventory and labelled objects
    live: dict[ResourceKey, JsonObject] = field(default_factory=dict)


async def observe(
    cluster: Cluster,
    inventories: InventoryStore,
    view: LiveView | None,
    app: AppSpec,
    prepared: Mapping[ResourceKey, Prepared],
) -> Observed:
    """The inventory, the prune candidates and the live bodies of ``app``'s objects."""
    inventory = await inventories.load(app.name)
    kinds = {k.group_kind for k, p in prepared.items() if p.served}
    kinds |= {k.group_kind for k in inventory.entries}
    served = [k for k, p in prepared.items() if p.served]
    if view is not None and _cache_answers(view, app, kinds):
        owned = {ResourceKey.of(o): o for o in view.objects(app.name)}
        previous = _previous(app.name, inventory, owned)
        # Unlabelled objects are not in the cache; an apply adopts them anyway.
        live = {k: owned[k] for k in (*served, *previous) if k in owned}
        return Observed(inventory, previous, live)
    owned = await owned_live(cluster, app.name, kinds)
    previous = _previous(app.name, inventory, owned)
    live = await read_live(cluster, [*served, *(previous - prepared.keys())], owned)
    return Observed(inventory, previous, live)


def _cache_answers(view: LiveView, app: AppSpec, kinds: set[GroupKind]) -> bool:
    by_manager = any(rule.managed_fields_managers for rule in app.ignore_differences)
    return not by_manager and all(view.synced(kind) for kind in kinds)


def _previous(
    app: str, inventory: Inventory, owned: Mapping[ResourceKey, JsonObject]
) -> frozenset[ResourceKey]:
    return frozenset(inventory.keys() | {k for k, v in owned.items() if owned_by(app, v)})
