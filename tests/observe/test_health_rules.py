"""Custom health rules in CEL."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.model import HealthRule, HealthStatus
from gitward.observe.health import HealthEvaluator, health_of


def widget(phase: str | None, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
    }
    if phase is not None:
        body["status"] = {"phase": phase, **status}
    return body


RULE = HealthRule(
    kind="Widget",
    group="example.com",
    healthy='has(object.status) && object.status.phase == "Running"',
    degraded='has(object.status) && object.status.phase == "Crashed"',
    progressing='has(object.status) && object.status.phase in ["Starting", "Pending"]',
    message='has(object.status) ? "phase " + object.status.phase : "no status"',
)


@pytest.mark.parametrize(
    ("phase", "status", "message"),
    [
        ("Running", HealthStatus.HEALTHY, "phase Running"),
        ("Crashed", HealthStatus.DEGRADED, "phase Crashed"),
        ("Starting", HealthStatus.PROGRESSING, "phase Starting"),
        # No expression is true: the built-in (generic) check decides.
        ("Failed", HealthStatus.DEGRADED, "phase is Failed"),
        (None, HealthStatus.HEALTHY, "exists; no status to check"),
    ],
)
def test_rule(phase: str | None, status: HealthStatus, message: str) -> None:
    health = HealthEvaluator([RULE]).health_of(widget(phase))
    assert (health.status, health.message) == (status, message)


def test_rule_applies_only_to_its_group_and_kind() -> None:
    other = widget("Crashed") | {"apiVersion": "other.io/v1"}
    assert HealthEvaluator([RULE]).health_of(other).status is HealthStatus.HEALTHY


def test_rule_overrides_a_builtin_check() -> None:
    rule = HealthRule(kind="Service", healthy="true", message='"always fine"')
    service = {"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}}
    assert health_of(service).status is HealthStatus.PROGRESSING
    assert health_of(service, [rule]).status is HealthStatus.HEALTHY


def test_evaluation_error_is_unknown_with_the_error() -> None:
    rule = HealthRule(kind="Widget", group="example.com", degraded='object.status.phase == "x"')
    health = HealthEvaluator([rule]).health_of(widget(None))
    assert health.status is HealthStatus.UNKNOWN
    assert "status" in health.message


def test_non_boolean_result_is_unknown() -> None:
    rule = HealthRule(kind="Widget", group="example.com", healthy="1 + 1")
    health = HealthEvaluator([rule]).health_of(widget("Running"))
    assert health.status is HealthStatus.UNKNOWN
    assert "not a bool" in health.message


def test_failing_message_expression_keeps_the_status() -> None:
    rule = HealthRule(kind="Widget", group="example.com", healthy="true", message="object.nope")
    health = HealthEvaluator([rule]).health_of(widget("Running"))
    assert health.status is HealthStatus.HEALTHY
    assert "message failed" in health.message


def test_rule_sees_nested_lists() -> None:
    rule = HealthRule(
        kind="Widget",
        group="example.com",
        healthy='object.status.conditions.exists(c, c.type == "Ready" && c.status == "True")',
    )
    obj = widget("Running", conditions=[{"type": "Ready", "status": "True"}])
    assert HealthEvaluator([rule]).health_of(obj).status is HealthStatus.HEALTHY


def test_a_rule_that_does_not_compile_is_a_config_error() -> None:
    rule = HealthRule(kind="Widget", group="example.com", healthy="object.status ==")
    with pytest.raises(ConfigError, match="Widget"):
        HealthEvaluator([rule])


def test_evaluators_do_not_share_rules() -> None:
    first = HealthEvaluator([HealthRule(kind="Widget", group="example.com", degraded="true")])
    second = HealthEvaluator()
    assert first.health_of(widget("Running")).status is HealthStatus.DEGRADED
    assert second.health_of(widget("Running")).status is HealthStatus.HEALTHY
