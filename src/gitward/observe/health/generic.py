"""Health of any object without a check of its own, from conventions its status follows.

Decided per class of object:

* **No status at all** (ConfigMap, Secret, RBAC, ServiceAccount, most plain data):
  Healthy. Such objects have no controller acting on them, so existing is all there is.
* **Being deleted** (``metadata.deletionTimestamp``): Progressing until it is gone.
* **Status of an older spec** (``observedGeneration`` below ``generation``): Progressing,
  and nothing else in the status is trusted.
* **kstatus conditions** (Flux, Cluster API, Crossplane and most operators):
  ``Stalled=True`` is Degraded (the controller gave up), ``Reconciling=True`` is
  Progressing. Then ``Ready`` or else ``Available``: True is Healthy; Unknown is
  Progressing; False is Progressing when its reason says work is under way (waiting for
  a dependency, still provisioning) and Degraded otherwise.
* **A status with none of these**: Healthy, since there is no signal to the contrary;
  a health rule can say more for a specific kind.
"""

from __future__ import annotations

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import (
    Obj,
    condition,
    describe,
    generation_lag,
    is_true,
    section,
)

# Ready=False with one of these reasons means "not yet", not "broken" (Flux, kstatus, CAPI).
_IN_PROGRESS_REASONS = frozenset(
    {
        "Progressing",
        "ProgressingWithRetry",
        "Reconciling",
        "InProgress",
        "DependencyNotReady",
        "Pending",
        "Creating",
        "Provisioning",
        "Initializing",
        "Waiting",
        "Updating",
        "Scaling",
    }
)
_FAILED_PHASES = frozenset({"Failed", "Error"})


def generic(obj: Obj) -> Health:
    if "status" not in obj:
        return Health(HealthStatus.HEALTHY, "exists; no status to check")
    if section(obj, "metadata").get("deletionTimestamp"):
        return Health(HealthStatus.PROGRESSING, "being deleted")
    lag = generation_lag(obj)
    if lag:
        return Health(HealthStatus.PROGRESSING, lag)
    return _from_conditions(obj)


def _from_conditions(obj: Obj) -> Health:
    """kstatus conditions first, then Ready or Available, then a failed phase."""
    stalled = condition(obj, "Stalled")
    if stalled is not None and is_true(stalled):
        return Health(HealthStatus.DEGRADED, describe(stalled) or "stalled")
    reconciling = condition(obj, "Reconciling")
    if reconciling is not None and is_true(reconciling):
        return Health(HealthStatus.PROGRESSING, describe(reconciling) or "reconciling")
    for kind in ("Ready", "Available"):
        found = condition(obj, kind)
        if found is not None:
            return _from_condition(kind, found)
    phase = section(obj, "status").get("phase")
    if phase in _FAILED_PHASES:
        return Health(HealthStatus.DEGRADED, f"phase is {phase}")
    return Health(HealthStatus.HEALTHY, "no conditions to check")


def _from_condition(kind: str, cond: Obj) -> Health:
    detail = describe(cond)
    state = cond.get("status")
    if state == "True":
        return Health(HealthStatus.HEALTHY, detail or f"{kind} is True")
    if state == "False" and cond.get("reason") not in _IN_PROGRESS_REASONS:
        return Health(HealthStatus.DEGRADED, detail or f"{kind} is False")
    return Health(HealthStatus.PROGRESSING, detail or f"{kind} is {state}")
