"""Health of ``batch`` objects: Job and CronJob.

A Job is healthy when it completed and degraded when it failed; while it runs it is
progressing. A suspended Job or CronJob is Suspended, not Progressing: nothing will
happen until someone resumes it.
"""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import Obj, condition, describe, is_true, number, section


def job(obj: Obj) -> Health:
    failed = condition(obj, "Failed")
    if failed is not None and is_true(failed):
        return Health(HealthStatus.DEGRADED, f"Job failed: {describe(failed) or 'no reason given'}")
    complete = condition(obj, "Complete")
    if complete is not None and is_true(complete):
        return Health(HealthStatus.HEALTHY, "Job completed")
    if section(obj, "spec").get("suspend"):
        return Health(HealthStatus.SUSPENDED, "Job is suspended")
    status = section(obj, "status")
    active, succeeded = number(status, "active"), number(status, "succeeded")
    return Health(HealthStatus.PROGRESSING, f"{active} active, {succeeded} succeeded")


def cron_job(obj: Obj) -> Health:
    if section(obj, "spec").get("suspend"):
        return Health(HealthStatus.SUSPENDED, "CronJob is suspended")
    last = section(obj, "status").get("lastScheduleTime")
    return Health(HealthStatus.HEALTHY, f"last scheduled {last}" if last else "never scheduled yet")
