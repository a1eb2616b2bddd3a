"""Drift: whether a change to a managed object may have changed what Git declares."""

from __future__ import annotations

from gitward.apply.inventory import owned_fields_hash
from gitward.model import JsonObject


def drifted(obj: JsonObject, own_manager: str, owned_fields: str | None) -> bool:
    """True if a change to ``obj`` may have changed what Git declares.

    ``managedFields`` name who wrote last and when (to the second). Writes by gitward
    itself and writes to the ``status`` subresource are not drift. A write by another
    manager is drift only if it took fields from gitward: then the set of fields gitward
    owns on the object differs from the one recorded after its last apply
    (``owned_fields``, the inventory's hash), as when a person edits a value gitward
    set. Another controller adding fields of its own (kube-controller-manager writes
    a Deployment's revision annotation right after every rollout) leaves that set as
    it was. Without managedFields, or without a recorded set, it cannot tell: drift.
    """
    entries = (obj.get("metadata") or {}).get("managedFields") or []
    if not entries:
        return True
    latest = max(str(e.get("time") or "") for e in entries)
    foreign = any(
        e.get("manager") != own_manager and e.get("subresource") != "status"
        for e in entries
        if str(e.get("time") or "") == latest
    )
    if not foreign:
        return False
    return not owned_fields or owned_fields_hash(obj, own_manager) != owned_fields
