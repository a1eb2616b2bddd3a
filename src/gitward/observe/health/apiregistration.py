"""Health of APIServices (aggregated APIs).

``Available=False`` is Degraded with the apiserver's reason and message
(``FailedDiscoveryCheck``, ``ServiceNotFound``, ``ServiceAccessError``...): the API group
is unusable and kubectl, namespace deletion and garbage collection start failing across
the cluster, so it must not hide as Progressing. The one exception is
``MissingEndpoints``: the service exists but no pod backs it yet, the normal state while
the extension server starts in the same sync.
"""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, condition, describe, is_true

_STARTING = frozenset({"MissingEndpoints"})


def api_service(obj: Obj) -> Health:
    available = condition(obj, "Available")
    if available is not None and is_true(available):
        return Health(HealthStatus.HEALTHY, "APIService is available")
    if available is None:
        return Health(HealthStatus.PROGRESSING, "waiting for the APIService to report availability")
    detail = f"APIService is not available: {describe(available) or 'no reason given'}"
    if available.get("status") == "False" and available.get("reason") not in _STARTING:
        return Health(HealthStatus.DEGRADED, detail)
    return Health(HealthStatus.PROGRESSING, detail)
