"""Rolling many objects' health up into one application health."""

from __future__ import annotations

from gitward.model import NOTHING_DEPLOYED, Health, HealthStatus, worst


def test_the_most_severe_status_wins() -> None:
    healths = [
        Health(HealthStatus.HEALTHY),
        Health(HealthStatus.PROGRESSING, "rolling out"),
        Health(HealthStatus.SUSPENDED),
    ]
    assert worst(healths) == Health(HealthStatus.PROGRESSING, "rolling out")
    assert worst([*healths, Health(HealthStatus.DEGRADED, "crash")]).status is HealthStatus.DEGRADED


def test_an_app_with_no_objects_is_not_healthy() -> None:
    # A path that rendered nothing used to report "sync succeeded; Healthy".
    empty = worst([])
    assert empty == NOTHING_DEPLOYED
    assert empty.status is HealthStatus.MISSING
    assert "nothing deployed" in empty.message
