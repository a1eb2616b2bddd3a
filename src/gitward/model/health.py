"""Health of one object or a whole application."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class HealthStatus(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    SUSPENDED = "Suspended"
    MISSING = "Missing"
    UNKNOWN = "Unknown"


# How bad each status is, for rolling many objects up into one application status.
_SEVERITY = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.SUSPENDED: 1,
    HealthStatus.PROGRESSING: 2,
    HealthStatus.UNKNOWN: 3,
    HealthStatus.MISSING: 4,
    HealthStatus.DEGRADED: 5,
}


@dataclass(frozen=True)
class Health:
    status: HealthStatus
    message: str = ""

    @property
    def severity(self) -> int:
        return _SEVERITY[self.status]

    def __str__(self) -> str:
        return f"{self.status}: {self.message}" if self.message else str(self.status)


HEALTHY = Health(HealthStatus.HEALTHY)
NOTHING_DEPLOYED = Health(HealthStatus.MISSING, "nothing deployed: the app has no objects")


def worst(healths: list[Health]) -> Health:
    """The most severe of ``healths``; :data:`NOTHING_DEPLOYED` when there are none.

    An empty set is not Healthy: an app that deploys nothing (a path gitward could not
    render, a source emptied by mistake) must not look like a working deployment.
    """
    return max(healths, key=lambda h: h.severity, default=NOTHING_DEPLOYED)
