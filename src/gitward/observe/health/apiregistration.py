"""Health of APIServices (aggregated APIs).

Available=False is Progressing, not Degraded: a freshly applied APIService stays
unavailable until the extension server behind it starts, which is the normal path of a
sync; the message carries the reason (e.g. ``MissingEndpoints``) for when it lasts.
"""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, condition, describe, is_true


def api_service(obj: Obj) -> Health:
    available = condition(obj, "Available")
    if available is not None and is_true(available):
        return Health(HealthStatus.HEALTHY, "APIService is available")
    if available is None:
        return Health(HealthStatus.PROGRESSING, "waiting for the APIService to report availability")
    return Health(HealthStatus.PROGRESSING, f"APIService is not available: {describe(available)}")
