"""Health of ``apps`` workloads: Deployment, StatefulSet, DaemonSet, ReplicaSet.

A rollout is complete when the controller has observed the latest spec and every
desired replica runs the new template and is available, as ``kubectl rollout status``
judges it.
"""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import (
    Obj,
    condition,
    describe,
    generation_lag,
    is_true,
    number,
    section,
)

_HEALTHY, _PROGRESSING = HealthStatus.HEALTHY, HealthStatus.PROGRESSING


def deployment(obj: Obj) -> Health:
    spec, status = section(obj, "spec"), section(obj, "status")
    if spec.get("paused"):
        return Health(HealthStatus.SUSPENDED, "Deployment is paused")
    lag = generation_lag(obj)
    if lag:
        return Health(_PROGRESSING, lag)
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(HealthStatus.DEGRADED, describe(progressing))
    return _deployment_rollout(spec, status)


def _deployment_rollout(spec: Obj, status: Obj) -> Health:
    """Where a Deployment's rollout stands once its latest spec has been observed."""
    want = number(spec, "replicas", 1)
    updated, total = number(status, "updatedReplicas"), number(status, "replicas")
    available = number(status, "availableReplicas")
    if updated < want:
        return Health(_PROGRESSING, f"{updated}/{want} replicas updated")
    if total > updated:
        return Health(_PROGRESSING, f"{total - updated} old replica(s) pending termination")
    if available < want:
        return Health(_PROGRESSING, f"{available}/{want} replicas available")
    return Health(_HEALTHY, f"{available}/{want} replicas available")


def stateful_set(obj: Obj) -> Health:
    spec, status = section(obj, "spec"), section(obj, "status")
    lag = generation_lag(obj)
    if lag:
        return Health(_PROGRESSING, lag)
    want, ready = number(spec, "replicas", 1), number(status, "readyReplicas")
    if ready < want:
        return Health(_PROGRESSING, f"{ready}/{want} replicas ready")
    return _stateful_set_rollout(spec, status, ready, want)


def _stateful_set_rollout(spec: Obj, status: Obj, ready: int, want: int) -> Health:
    """A StatefulSet's rollout: untracked with OnDelete, up to the partition if one is set."""
    strategy = section(spec, "updateStrategy")
    if strategy.get("type") == "OnDelete":
        return Health(_HEALTHY, f"{ready}/{want} replicas ready (OnDelete: rollout not tracked)")
    partition = number(section(strategy, "rollingUpdate"), "partition")
    updated = number(status, "updatedReplicas")
    if partition > 0:
        target = max(want - partition, 0)
        if updated < target:
            return Health(_PROGRESSING, f"{updated}/{target} replicas above partition updated")
        return Health(_HEALTHY, f"partitioned rollout complete: {updated}/{target} updated")
    if status.get("updateRevision") != status.get("currentRevision"):
        return Health(_PROGRESSING, f"{updated}/{want} replicas at the new revision")
    return Health(_HEALTHY, f"{ready}/{want} replicas ready")


def daemon_set(obj: Obj) -> Health:
    spec, status = section(obj, "spec"), section(obj, "status")
    lag = generation_lag(obj)
    if lag:
        return Health(_PROGRESSING, lag)
    want = number(status, "desiredNumberScheduled")
    available = number(status, "numberAvailable")
    if section(spec, "updateStrategy").get("type") != "OnDelete":
        updated = number(status, "updatedNumberScheduled")
        if updated < want:
            return Health(_PROGRESSING, f"{updated}/{want} pods updated")
    if available < want:
        return Health(_PROGRESSING, f"{available}/{want} pods available")
    return Health(_HEALTHY, f"{available}/{want} pods available")


def replica_set(obj: Obj) -> Health:
    lag = generation_lag(obj)
    if lag:
        return Health(_PROGRESSING, lag)
    failure = condition(obj, "ReplicaFailure")
    if is_true(failure) and failure is not None:
        return Health(HealthStatus.DEGRADED, describe(failure))
    want = number(section(obj, "spec"), "replicas", 1)
    available = number(section(obj, "status"), "availableReplicas")
    status = _HEALTHY if available >= want else _PROGRESSING
    return Health(status, f"{available}/{want} replicas available")
