"""Which writes are drift, from the managedFields the API server keeps on each object."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.apply.inventory import owned_fields_hash
from gitward.model import JsonObject
from gitward.reconcile.drift import drifted

GITWARD_FIELDS: dict[str, Any] = {
    "f:data": {"f:value": {}},
    "f:metadata": {"f:labels": {"f:gitward.dev/app": {}}},
}
TAKEN_BY_HAND: dict[str, Any] = {
    "f:metadata": {"f:labels": {"f:gitward.dev/app": {}}}
}  # f:data.f:value moved


def entry(manager: str, time: str, fields: Any, **extra: str) -> dict[str, Any]:
    operation = "Apply" if manager == "gitward" else "Update"
    return {"manager": manager, "operation": operation, "time": time, "fieldsV1": fields, **extra}


def obj(*entries: dict[str, Any]) -> JsonObject:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"managedFields": list(entries)}}


APPLIED = obj(entry("gitward", "2026-11-30T10:00:00Z", GITWARD_FIELDS))
RECORDED = owned_fields_hash(APPLIED, "gitward")  # what the inventory keeps after the apply
ANNOTATED = obj(
    entry("gitward", "2026-11-30T10:00:00Z", GITWARD_FIELDS),
    entry("kube-controller-manager", "2026-11-30T10:00:00Z", {"f:metadata": {"f:annotations": {}}}),
)
STATUS = obj(
    entry("gitward", "2026-11-30T10:00:00Z", GITWARD_FIELDS),
    entry(
        "kube-controller-manager", "2026-11-30T10:00:03Z", {"f:status": {}}, subresource="status"
    ),
)
EDITED = obj(
    entry("gitward", "2026-11-30T10:00:00Z", TAKEN_BY_HAND),
    entry("kubectl-edit", "2026-11-30T10:05:00Z", {"f:data": {"f:value": {}}}),
)


@pytest.mark.parametrize(
    ("body", "recorded", "expected"),
    [
        pytest.param(APPLIED, RECORDED, False, id="gitward's own write"),
        pytest.param(STATUS, RECORDED, False, id="a status update by a controller"),
        pytest.param(ANNOTATED, RECORDED, False, id="a controller adds its own field, same second"),
        pytest.param(ANNOTATED, None, True, id="the same before anything was recorded"),
        pytest.param(EDITED, RECORDED, True, id="a field taken from gitward by hand"),
        pytest.param(obj(), RECORDED, True, id="no managedFields: cannot tell"),
    ],
)
def test_drift_is_a_field_taken_from_gitward(
    body: JsonObject, recorded: str | None, expected: bool
) -> None:
    assert drifted(body, "gitward", recorded) is expected
