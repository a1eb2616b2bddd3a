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


def worst(healths: list[Health]) -> Health:
    """The most severe of ``healths`` (Healthy when there are none)."""
    return max(healths, key=lambda h: h.severity, default=HEALTHY)
