"""Predict: what the API server would store for each desired object, without writing.

Before: :mod:`gitward.apply.observe` (the live bodies). After: :func:`gitward.plan.build_plan`,
which compares the prediction with the live object, so API defaulting and admission
mutations never show up as differences.

Prediction is where speed comes from. An object that still carries the hash of what
Git wants now, and on which gitward owns the same set of fields as right after its
last apply (the inventory keeps that hash), is exactly as gitward left it: its live
body is the prediction and no request is sent. Everything else is dry-run with
server-side apply, ``concurrency`` requests in flight at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from gitward.apply.inventory import Entry, Inventory, owned_fields_hash
from gitward.apply.prepare import Prepared
from gitward.errors import ConflictError, GitwardError, ImmutableFieldError, KubeError
from gitward.model import JsonObject, ResourceKey
from gitward.model.annotations import DESIRED_HASH
from gitward.ports import Cluster


@dataclass(frozen=True)
class PredictOptions:
    field_manager: str = "gitward"
    force_conflicts: bool = False
    concurrency: int = 32
    full_compare: bool = False  # dry-run every object, ignoring the inventory's fast path
    compare: frozenset[ResourceKey] = frozenset()  # dry-run these even if as left


@dataclass
class Prediction:
    """The dry-run answers, and the refusals the plan and the report need to know."""

    predicted: dict[ResourceKey, JsonObject] = field(default_factory=dict)
    errors: dict[ResourceKey, GitwardError] = field(default_factory=dict)
    conflicts: dict[ResourceKey, ConflictError] = field(default_factory=dict)
    immutable: dict[ResourceKey, ImmutableFieldError] = field(default_factory=dict)


async def predict(
    cluster: Cluster,
    prepared: Mapping[ResourceKey, Prepared],
    live: Mapping[ResourceKey, JsonObject],
    inventory: Inventory,
    options: PredictOptions,
) -> Prediction:
    """What the server would store for each existing object (dry-run unless known).

    Objects to be created are not predicted: there is nothing to compare them with.
    A conflict with another field manager does not hide the difference: the object is
    dry-run again with force to show what a forced sync would do, and the conflict is
    kept to be reported.
    """
    result = Prediction()
    slots = asyncio.Semaphore(options.concurrency)

    async def dry_run(key: ResourceKey, force: bool) -> None:
        body = prepared[key].resource.body
        retry_forced = False
        async with slots:
            try:
                result.predicted[key] = await cluster.apply(
                    body, field_manager=options.field_manager, force=force, dry_run=True
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
            continue
        entry = inventory.entries.get(key)
        full = options.full_compare or key in options.compare
        if not full and as_left(current, item, entry, options.field_manager):
            result.predicted[key] = current  # exactly as gitward left it
        else:
            todo.append(key)
    await asyncio.gather(*(dry_run(k, options.force_conflicts) for k in todo))
    return result


def as_left(live: JsonObject, item: Prepared, entry: Entry | None, manager: str) -> bool:
    """True if ``live`` is exactly as gitward left it after applying ``item``.

    It carries the hash of what Git wants now, and gitward still owns the same fields
    as right after its apply (a field changed by hand has moved to another manager).
    """
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    if entry is None or not entry.fields_hash or annotations.get(DESIRED_HASH) != item.desired_hash:
        return False
    return owned_fields_hash(live, manager) == entry.fields_hash
