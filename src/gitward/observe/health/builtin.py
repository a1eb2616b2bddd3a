"""The table of built-in checks: one pure function per Kubernetes kind gitward knows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from gitward.model import GroupKind, Health
from gitward.observe.health import (
    apiextensions,
    apiregistration,
    apps,
    batch,
    core,
    networking,
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
