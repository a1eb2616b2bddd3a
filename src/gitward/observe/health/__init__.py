"""Health of live objects: one pure function per kind, one module per API group.

:func:`health_of` dispatches on group and kind to the check of that kind (``apps``,
core, ``batch``, ``networking.k8s.io``, ``apiextensions.k8s.io``,
``apiregistration.k8s.io``), and falls back to :func:`generic.generic`, which reads the
conventions most controllers follow (observedGeneration, Ready/Stalled/Reconciling
conditions). Custom :class:`HealthRule` CEL expressions come first when one matches the
kind. Every result carries a message a person can act on.

Before: live objects from the watch cache. After: the app's health is the worst of its
objects' (:func:`gitward.model.worst`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from gitward.model import GroupKind, Health, HealthRule, split_api_version
from gitward.observe.health import (
    apiextensions,
    apiregistration,
    apps,
    batch,
    core,
    generic,
    networking,
    rules,
)

Check = Callable[[Mapping[str, Any]], Health]

CHECKS: Mapping[GroupKind, Check] = MappingProxyType(
    {
        GroupKind("apps", "Deployment"): apps.deployment,
        GroupKind("apps", "StatefulSet"): apps.stateful_set,
        GroupKind("apps", "DaemonSet"): apps.daemon_set,
        GroupKind("apps", "ReplicaSet"): apps.replica_set,
        GroupKind("", "Pod"): core.pod,
        GroupKind("", "PersistentVolumeClaim"): core.persistent_volume_claim,
        GroupKind("", "Service"): core.service,
        GroupKind("", "Namespace"): core.namespace,
        GroupKind("batch", "Job"): batch.job,
        GroupKind("batch", "CronJob"): batch.cron_job,
        GroupKind("networking.k8s.io", "Ingress"): networking.ingress,
        GroupKind("extensions", "Ingress"): networking.ingress,
        GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"): (
            apiextensions.custom_resource_definition
        ),
        GroupKind("apiregistration.k8s.io", "APIService"): apiregistration.api_service,
    }
)


def group_kind_of(obj: Mapping[str, Any]) -> GroupKind:
    group, _ = split_api_version(str(obj.get("apiVersion", "")))
    return GroupKind(group, str(obj.get("kind", "")))


def builtin_health(obj: Mapping[str, Any]) -> Health:
    """The built-in check for the object's kind, or the generic one."""
    return CHECKS.get(group_kind_of(obj), generic.generic)(obj)


class HealthEvaluator:
    """Health checks with an application's custom rules, compiled once.

    Keep one per set of rules (per app) and call :meth:`health_of` for every object; the
    CEL programs are compiled in the constructor, which raises ConfigError for a bad one.
    """

    def __init__(self, health_rules: Sequence[HealthRule] = ()) -> None:
        self._rules = rules.compile_rules(health_rules)

    def health_of(self, obj: Mapping[str, Any]) -> Health:
        rule = self._rules.get(group_kind_of(obj))
        if rule is not None:
            verdict = rules.evaluate(rule, obj)
            if verdict is not None:
                return verdict
        return builtin_health(obj)


def health_of(obj: Mapping[str, Any], health_rules: Sequence[HealthRule] = ()) -> Health:
    """The health of one live object; with rules, prefer a :class:`HealthEvaluator`."""
    if not health_rules:
        return builtin_health(obj)
    return HealthEvaluator(health_rules).health_of(obj)


__all__ = ["CHECKS", "HealthEvaluator", "builtin_health", "group_kind_of", "health_of"]
