"""Health of ``networking.k8s.io`` objects: an Ingress is ready once it has an address."""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, section


def ingress(obj: Obj) -> Health:
    entries = section(section(obj, "status"), "loadBalancer").get("ingress")
    if entries:
        addresses = ", ".join(str(e.get("ip") or e.get("hostname")) for e in entries)
        return Health(HealthStatus.HEALTHY, f"Ingress at {addresses}")
    return Health(
        HealthStatus.PROGRESSING, "waiting for the ingress controller to assign an address"
    )
