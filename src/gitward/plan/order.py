"""The order in which a plan's steps run, as data: a kind-rank table and one comparator.

Steps that create or update objects (and hooks) are sorted by the tuple
(phase, wave, kind rank, namespace, name, group, kind). Phases run PreSync, Sync,
PostSync, SyncFail; waves are integers ascending (negative first); within a wave the
kind rank puts the things other objects need first (namespaces, then policies and
accounts, config, storage, CRDs, RBAC, services, workloads, ingress, webhooks); objects of
kinds not in the table come last, because they are most likely custom resources whose
definitions must exist first. The rank applies to built-in API groups only, so a custom
resource that happens to be called ``Service`` still ranks as unknown.

Before sorting, one pass moves the objects others depend on ahead of their users, so
that annotations cannot order a user before what it needs: a Namespace in the plan takes
the earliest (phase, wave) of any object in it, if that is earlier than its own, and a
CustomResourceDefinition takes the earliest (phase, wave) of any custom resource of its
group and kind. The comparator's kind rank then puts the Namespace or CRD first within
that shared (phase, wave). The pass looks at the plan as a whole, so its result, like
the sort, does not depend on the order of the input.

Prune steps (and KEEP steps, which are prunes that will not happen) come after all the
others, in reverse: last wave first and the highest kind rank first, so that workloads
go before the namespaces and CRDs they live in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from gitward.model import PHASE_ORDER, Action, GroupKind, Phase, Step

KIND_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
KIND_RANK: Mapping[str, int] = {kind: rank for rank, kind in enumerate(KIND_ORDER)}
UNKNOWN_RANK = len(KIND_ORDER)

# Groups served by Kubernetes itself; kinds of other groups are custom and rank last.
_BUILTIN_GROUPS = frozenset({"", "apps", "batch", "extensions", "policy", "autoscaling"})
_PRUNE_ACTIONS = frozenset({Action.PRUNE, Action.KEEP})
_CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
_NAMESPACE = GroupKind("", "Namespace")


def kind_rank(group_kind: GroupKind) -> int:
    """The position of a kind in :data:`KIND_ORDER`; unknown and custom kinds rank last."""
    builtin = group_kind.group in _BUILTIN_GROUPS or group_kind.group.endswith(".k8s.io")
    return KIND_RANK.get(group_kind.kind, UNKNOWN_RANK) if builtin else UNKNOWN_RANK


def sort_key(step: Step) -> tuple[int, int, int, str, str, str, str]:
    """The comparator: phase → wave → kind rank → namespace → name (group, kind break ties)."""
    key = step.key
    return (
        PHASE_ORDER.index(step.phase),
        step.wave,
        kind_rank(key.group_kind),
        key.namespace,
        key.name,
        key.group,
        key.kind,
    )


def _prune_sort_key(step: Step) -> tuple[int, int, str, str, str, str]:
    key = step.key
    return (-step.wave, -kind_rank(key.group_kind), key.namespace, key.name, key.group, key.kind)


def order(steps: Iterable[Step]) -> tuple[Step, ...]:
    """Steps in execution order (see the module docstring); the input order is irrelevant."""
    applied = [s for s in steps if s.action not in _PRUNE_ACTIONS]
    pruned = [s for s in steps if s.action in _PRUNE_ACTIONS]
    applied = _move_dependencies_first(applied)
    return (*sorted(applied, key=sort_key), *sorted(pruned, key=_prune_sort_key))


def _move_dependencies_first(steps: list[Step]) -> list[Step]:
    """Give each Namespace and CRD the earliest (phase, wave) of the objects that need it."""
    earliest_in_namespace: dict[str, tuple[int, int]] = {}
    earliest_of_kind: dict[GroupKind, tuple[int, int]] = {}
    for step in steps:
        slot = (PHASE_ORDER.index(step.phase), step.wave)
        if step.key.namespace:
            ns = step.key.namespace
            earliest_in_namespace[ns] = min(slot, earliest_in_namespace.get(ns, slot))
        gk = step.key.group_kind
        earliest_of_kind[gk] = min(slot, earliest_of_kind.get(gk, slot))
    moved: list[Step] = []
    for step in steps:
        needed_by = _needed_by(step, earliest_in_namespace, earliest_of_kind)
        own = (PHASE_ORDER.index(step.phase), step.wave)
        if needed_by is not None and needed_by < own and step.action is not Action.HOOK:
            phase, wave = PHASE_ORDER[needed_by[0]], needed_by[1]
            moved.append(dataclasses.replace(step, phase=Phase(phase), wave=wave))
        else:
            moved.append(step)
    return moved


def _needed_by(
    step: Step,
    earliest_in_namespace: Mapping[str, tuple[int, int]],
    earliest_of_kind: Mapping[GroupKind, tuple[int, int]],
) -> tuple[int, int] | None:
    gk = step.key.group_kind
    if gk == _NAMESPACE:
        return earliest_in_namespace.get(step.key.name)
    if gk == _CRD and step.desired is not None:
        defined = defined_kind(step.desired.body)
        return None if defined is None else earliest_of_kind.get(defined)
    return None


def defined_kind(crd: Mapping[str, Any]) -> GroupKind | None:
    """The group and kind a CustomResourceDefinition body defines, if it says."""
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        return None
    names = spec.get("names")
    group, kind = spec.get("group"), names.get("kind") if isinstance(names, Mapping) else None
    if isinstance(group, str) and isinstance(kind, str):
        return GroupKind(group, kind)
    return None
