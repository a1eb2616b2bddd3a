"""Health of CustomResourceDefinitions: usable once Established with names accepted."""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, condition, describe, is_false, is_true


def custom_resource_definition(obj: Obj) -> Health:
    names = condition(obj, "NamesAccepted")
    if names is not None and is_false(names):
        # A name clash never resolves by waiting; someone must rename.
        return Health(HealthStatus.DEGRADED, f"names not accepted: {describe(names)}")
    terminating = condition(obj, "Terminating")
    if is_true(terminating):
        return Health(HealthStatus.PROGRESSING, "CustomResourceDefinition is terminating")
    if is_true(condition(obj, "Established")):
        return Health(HealthStatus.HEALTHY, "CustomResourceDefinition is established")
    return Health(
        HealthStatus.PROGRESSING, "waiting for the CustomResourceDefinition to be established"
    )
