"""The inventory: which objects an application owns, kept in the cluster itself.

Prune candidates are "previous inventory minus new desired set", so the inventory must
survive the process and be the same for every machine that syncs the app: it lives in a
ConfigMap (``gitward-inventory-<app>``, namespace ``gitward-system`` by default). For each
object it also keeps a hash of the *set of fields* gitward owns on it, read from the
object's ``managedFields`` right after gitward applied it. A field someone else changes
by hand moves to that person's field manager, so the set shrinks; status updates and
fields gitward does not declare leave it alone. When the live object still carries the
desired-hash annotation of what Git wants now and gitward's field set is unchanged, the
object is exactly as gitward left it and needs no dry-run: a no-op re-sync costs a few
LIST requests (or none, with the watch cache) and writes nothing.

Only the field *paths* are hashed, not their values, so a commit that changes values
leaves the inventory as it is: a sync of 10 changed objects writes those 10 objects and
no inventory.

The inventory is an optimisation and a record, not the only source of ownership: every
applied object also carries the tracking annotation, so ownership can be rebuilt from
the cluster alone (see :mod:`gitward.apply.tracking`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import orjson

from gitward.errors import KubeError
from gitward.model import JsonObject, ResourceKey
from gitward.ports import Cluster

DEFAULT_NAMESPACE = "gitward-system"
FIELD_MANAGER = "gitward"
_FORMAT = 2


@dataclass(frozen=True)
class Entry:
    """What gitward knows about one owned object."""

    api_version: str
    fields_hash: str = ""  # hash of the fields gitward owns, after its last apply ("" unknown)


@dataclass(frozen=True)
class Inventory:
    app: str
    entries: Mapping[ResourceKey, Entry] = field(default_factory=dict)

    def keys(self) -> set[ResourceKey]:
        return set(self.entries)

    def with_entries(
        self, updates: Mapping[ResourceKey, Entry], remove: Iterable[ResourceKey] = ()
    ) -> Inventory:
        merged = {**self.entries, **updates}
        for key in remove:
            merged.pop(key, None)
        return replace(self, entries=merged)


def _encode_key(key: ResourceKey) -> str:
    return f"{key.group}|{key.kind}|{key.namespace}|{key.name}"


def _decode_key(text: str) -> ResourceKey:
    group, kind, namespace, name = text.split("|")
    return ResourceKey(group, kind, namespace, name)


def encode(inventory: Inventory) -> str:
    rows = {
        _encode_key(k): [e.api_version, e.fields_hash] for k, e in sorted(inventory.entries.items())
    }
    return orjson.dumps({"format": _FORMAT, "objects": rows}).decode()


def decode(app: str, text: str) -> Inventory:
    data = orjson.loads(text)
    same_format = data.get("format") == _FORMAT  # older formats: hashes unknown, verify once
    entries = {
        _decode_key(k): Entry(str(v[0]), str(v[1]) if same_format else "")
        for k, v in (data.get("objects") or {}).items()
    }
    return Inventory(app, entries)


def owned_fields_hash(body: JsonObject, manager: str = FIELD_MANAGER) -> str:
    """A hash of the field paths ``manager`` owns by apply on ``body`` ("" if none)."""
    entries = (body.get("metadata") or {}).get("managedFields") or []
    for entry in entries:
        if (
            entry.get("manager") == manager
            and entry.get("operation") == "Apply"
            and not entry.get("subresource")
        ):
            fields = orjson.dumps(entry.get("fieldsV1") or {}, option=orjson.OPT_SORT_KEYS)
            return hashlib.sha256(fields).hexdigest()[:20]
    return ""


class InventoryStore:
    """Reads and writes one app's inventory ConfigMap through the Cluster port."""

    def __init__(
        self,
        cluster: Cluster,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.field_manager = field_manager
        self._namespace_ready = False

    def _key(self, app: str) -> ResourceKey:
        return ResourceKey("", "ConfigMap", self.namespace, f"gitward-inventory-{app}")

    async def load(self, app: str) -> Inventory:
        live = await self.cluster.get(self._key(app))
        if live is None:
            return Inventory(app)
        return decode(app, str((live.get("data") or {}).get("inventory") or "{}"))

    async def save(self, inventory: Inventory, previous: Inventory | None = None) -> None:
        """Write the inventory, unless it is the same as ``previous`` (no write at all)."""
        if previous is not None and encode(previous) == encode(inventory):
            return
        await self._ensure_namespace()
        body: JsonObject = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self._key(inventory.app).name,
                "namespace": self.namespace,
                "labels": {
                    "app.kubernetes.io/managed-by": "gitward",
                    "gitward.dev/inventory-of": inventory.app,
                },
            },
            "data": {"inventory": encode(inventory)},
        }
        try:
            await self.cluster.apply(body, field_manager=self.field_manager, force=True)
        except KubeError as e:
            if e.status != 404:
                raise
            # The namespace was deleted since it was last seen (by a person, say):
            # create it again rather than fail every sync of every app from now on.
            self._namespace_ready = False
            await self._ensure_namespace()
            await self.cluster.apply(body, field_manager=self.field_manager, force=True)

    async def delete(self, app: str) -> None:
        await self.cluster.delete(self._key(app))

    async def _ensure_namespace(self) -> None:
        if self._namespace_ready:
            return
        key = ResourceKey("", "Namespace", "", self.namespace)
        if await self.cluster.get(key) is None:
            await self.cluster.apply(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}},
                field_manager=self.field_manager,
            )
        self._namespace_ready = True
