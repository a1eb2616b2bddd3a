"""Fields the API server refuses to change in place, per kind.

When a server-side dry-run succeeds, the server itself is the judge and gitward needs no
table: an immutable change makes the dry-run fail, and the caller passes that object's
key to :func:`gitward.plan.build.build_plan` as an immutable failure. This table serves
the other case, objects compared from the desired fields only (no dry-run result), so the
plan can still say "this needs Replace" before the apply fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gitward.model import FieldChange, GroupKind

IMMUTABLE_FIELDS: Mapping[GroupKind, tuple[str, ...]] = {
    GroupKind("apps", "Deployment"): ("/spec/selector",),
    GroupKind("apps", "ReplicaSet"): ("/spec/selector",),
    GroupKind("apps", "DaemonSet"): ("/spec/selector",),
    GroupKind("apps", "StatefulSet"): (
        "/spec/selector",
        "/spec/serviceName",
        "/spec/volumeClaimTemplates",
        "/spec/podManagementPolicy",
    ),
    GroupKind("batch", "Job"): ("/spec/selector", "/spec/template"),
    GroupKind("", "Service"): ("/spec/clusterIP",),
    GroupKind("", "PersistentVolumeClaim"): (
        "/spec/accessModes",
        "/spec/selector",
        "/spec/storageClassName",
        "/spec/volumeMode",
        "/spec/volumeName",
    ),
    GroupKind("rbac.authorization.k8s.io", "RoleBinding"): ("/roleRef",),
    GroupKind("rbac.authorization.k8s.io", "ClusterRoleBinding"): ("/roleRef",),
    GroupKind("storage.k8s.io", "StorageClass"): (
        "/parameters",
        "/provisioner",
        "/reclaimPolicy",
        "/volumeBindingMode",
    ),
}
# ConfigMaps and Secrets marked ``immutable: true`` cannot change their data at all.
_DATA_FIELDS = ("/data", "/binaryData", "/stringData")


def immutable_changes(
    group_kind: GroupKind, live: Mapping[str, Any], changes: Iterable[FieldChange]
) -> list[str]:
    """Pointers of ``changes`` that the API server would refuse to apply in place."""
    prefixes = IMMUTABLE_FIELDS.get(group_kind, ())
    if group_kind in (GroupKind("", "ConfigMap"), GroupKind("", "Secret")) and live.get(
        "immutable"
    ):
        prefixes = _DATA_FIELDS
    return [
        change.pointer
        for change in changes
        if any(change.pointer == p or change.pointer.startswith(p + "/") for p in prefixes)
    ]
