"""Health of core (``v1``) objects: Pod, PersistentVolumeClaim, Service, Namespace.

Pods are judged by what they are for: a pod that restarts forever (``restartPolicy:
Always``) is healthy when Ready; a pod that runs to completion (``Never``/``OnFailure``)
is progressing while it runs and healthy once it succeeded. Either way, a container
stuck waiting for a reason that will not fix itself (a crash loop, an image that cannot
be pulled, a bad config) is degraded at once instead of progressing until a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, condition, describe, is_true, section

_STUCK_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)


def pod(obj: Obj) -> Health:
    status = section(obj, "status")
    phase = status.get("phase")
    if phase == "Succeeded":
        return Health(HealthStatus.HEALTHY, status.get("message") or "Pod completed")
    if phase == "Failed":
        return Health(HealthStatus.DEGRADED, f"Pod failed: {_failure(status)}")
    stuck = _stuck_container(status)
    if stuck:
        return Health(HealthStatus.DEGRADED, stuck)
    if phase == "Pending":
        scheduled = condition(obj, "PodScheduled")
        detail = describe(scheduled) if scheduled and not is_true(scheduled) else "Pending"
        return Health(HealthStatus.PROGRESSING, detail or "Pending")
    if phase == "Running":
        return _running(obj)
    return Health(HealthStatus.UNKNOWN, f"Pod phase is {phase or 'not reported'}")


def _running(obj: Obj) -> Health:
    restart = section(obj, "spec").get("restartPolicy", "Always")
    ready = condition(obj, "Ready")
    if restart != "Always":
        return Health(HealthStatus.PROGRESSING, "Pod is running to completion")
    if is_true(ready):
        return Health(HealthStatus.HEALTHY, "Pod is ready")
    return Health(HealthStatus.PROGRESSING, describe(ready) if ready else "Pod is not ready")


def _containers(status: Obj) -> Iterator[Mapping[str, Any]]:
    for field in ("initContainerStatuses", "containerStatuses"):
        for container in status.get(field) or []:
            if isinstance(container, Mapping):
                yield container


def _stuck_container(status: Obj) -> str | None:
    for container in _containers(status):
        waiting = section(section(container, "state"), "waiting")
        if waiting.get("reason") in _STUCK_REASONS:
            detail = describe(waiting)
            return f"container {container.get('name')}: {detail}"
    return None


def _failure(status: Obj) -> str:
    if status.get("reason") or status.get("message"):
        return describe(status)
    for container in _containers(status):
        terminated = section(section(container, "state"), "terminated")
        if terminated.get("exitCode"):
            return f"container {container.get('name')} exited {terminated.get('exitCode')}" + (
                f" ({terminated['reason']})" if terminated.get("reason") else ""
            )
    return "unknown reason"


def persistent_volume_claim(obj: Obj) -> Health:
    phase = section(obj, "status").get("phase")
    if phase == "Bound":
        return Health(HealthStatus.HEALTHY, "PersistentVolumeClaim is bound")
    if phase == "Lost":
        return Health(HealthStatus.DEGRADED, "PersistentVolumeClaim lost its volume")
    return Health(HealthStatus.PROGRESSING, "PersistentVolumeClaim is pending")


def service(obj: Obj) -> Health:
    if section(obj, "spec").get("type") != "LoadBalancer":
        kind = section(obj, "spec").get("type") or "ClusterIP"
        return Health(HealthStatus.HEALTHY, f"{kind} Service: nothing to wait for")
    ingress = section(section(obj, "status"), "loadBalancer").get("ingress")
    if ingress:
        addresses = ", ".join(str(i.get("ip") or i.get("hostname")) for i in ingress)
        return Health(HealthStatus.HEALTHY, f"load balancer at {addresses}")
    return Health(HealthStatus.PROGRESSING, "waiting for a load balancer address")


def namespace(obj: Obj) -> Health:
    if section(obj, "status").get("phase") == "Terminating":
        return Health(HealthStatus.PROGRESSING, "Namespace is terminating")
    return Health(HealthStatus.HEALTHY, "Namespace is active")
