"""Health of any object without a check of its own, from conventions its status follows.

Decided per class of object:

* **No status at all** (ConfigMap, Secret, RBAC, ServiceAccount, most plain data):
  Healthy. Such objects have no controller acting on them, so existing is all there is.
  (A kind the rule library knows gets "waiting for its controller" instead, before this
  check runs.) A ``status`` that is not a map is Unknown: the object is malformed.
* **Being deleted** (``metadata.deletionTimestamp``): Progressing until it is gone.
* **Status of an older spec** (``observedGeneration`` below ``generation``, in the status
  or in its Ready condition): Progressing, and nothing else in the status is trusted.
* **kstatus conditions** (Flux, Cluster API and most operators): ``Stalled=True`` is
  Degraded (the controller gave up), ``Reconciling=True`` is Progressing.
* **Crossplane's pair** (any object with both ``Synced`` and ``Ready``: managed
  resources, composites, claims): ``Synced=False`` is Degraded (the last reconcile
  failed) unless paused (Suspended); then Ready as below, where only ``Creating`` and
  ``Deleting`` mean "not yet".
* Then ``Ready`` or else ``Available``: True is Healthy; Unknown is Progressing; False is
  Progressing when its reason says work is under way (waiting for a dependency, still
  provisioning) and Degraded otherwise.
* **A status with none of these**: Healthy unless its ``phase`` says Failed, since there
  is no signal to the contrary; a health rule can say more for a specific kind.
"""

from __future__ import annotations

from collections.abc import Mapping

from gitward.model import Health, HealthStatus
from gitward.observe.health.conditions import (
    Obj,
    condition,
    describe,
    generation_lag,
    is_false,
    is_true,
    number,
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
        "Upgrading",
        "Installing",
        "Deploying",
        "Starting",
        "Scaling",
        "Deleting",
    }
)
_FAILED_PHASES = frozenset({"Failed", "Error"})
_CROSSPLANE_NOT_YET = frozenset({"Creating", "Deleting"})


def generic(obj: Obj) -> Health:
    status = obj.get("status")
    if status is None:
        return Health(HealthStatus.HEALTHY, "exists; no status to check")
    if not isinstance(status, Mapping):
        return malformed_status(status)
    if section(obj, "metadata").get("deletionTimestamp"):
        return Health(HealthStatus.PROGRESSING, "being deleted")
    lag = generation_lag(obj)
    if lag:
        return Health(HealthStatus.PROGRESSING, lag)
    return from_conditions(obj)


def malformed_status(status: object) -> Health:
    return Health(
        HealthStatus.UNKNOWN,
        f"status is a {type(status).__name__}, not a map: the object is malformed",
    )


def from_conditions(obj: Obj) -> Health:
    """kstatus conditions first, then Crossplane's pair, Ready or Available, a failed phase."""
    stalled = condition(obj, "Stalled")
    if stalled is not None and is_true(stalled):
        return Health(HealthStatus.DEGRADED, describe(stalled) or "stalled")
    reconciling = condition(obj, "Reconciling")
    if reconciling is not None and is_true(reconciling):
        return Health(HealthStatus.PROGRESSING, describe(reconciling) or "reconciling")
    synced, ready = condition(obj, "Synced"), condition(obj, "Ready")
    if synced is not None and ready is not None:
        return _crossplane(synced, ready)
    for kind in ("Ready", "Available"):
        found = condition(obj, kind)
        if found is not None:
            return _from_condition(obj, kind, found)
    phase = section(obj, "status").get("phase")
    if phase in _FAILED_PHASES:
        return Health(HealthStatus.DEGRADED, f"phase is {phase}")
    return Health(HealthStatus.HEALTHY, "no conditions to check")


def _crossplane(synced: Obj, ready: Obj) -> Health:
    """Crossplane: Synced says whether the last reconcile worked, Ready whether it is up."""
    if is_false(synced):
        if synced.get("reason") == "ReconcilePaused":
            return Health(HealthStatus.SUSPENDED, describe(synced))
        return Health(HealthStatus.DEGRADED, f"not synced: {describe(synced) or 'no reason'}")
    if is_true(ready):
        return Health(HealthStatus.HEALTHY, describe(ready) or "Ready is True")
    if is_false(ready) and ready.get("reason") not in _CROSSPLANE_NOT_YET:
        return Health(HealthStatus.DEGRADED, f"not ready: {describe(ready) or 'no reason'}")
    return Health(HealthStatus.PROGRESSING, describe(ready) or "waiting to become Ready")


def _from_condition(obj: Obj, kind: str, cond: Obj) -> Health:
    detail = describe(cond)
    state = cond.get("status")
    observed = cond.get("observedGeneration")
    generation = number(section(obj, "metadata"), "generation")
    if isinstance(observed, int) and observed < generation:
        return Health(
            HealthStatus.PROGRESSING,
            f"{kind} describes generation {observed}; waiting for generation {generation}",
        )
    if state == "True":
        return Health(HealthStatus.HEALTHY, detail or f"{kind} is True")
    if state == "False" and cond.get("reason") not in _IN_PROGRESS_REASONS:
        return Health(HealthStatus.DEGRADED, detail or f"{kind} is False")
    return Health(HealthStatus.PROGRESSING, detail or f"{kind} is {state}")
