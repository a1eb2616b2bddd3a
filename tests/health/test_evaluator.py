"""The evaluation chain: app rules, library, built-in checks, generic; and bad input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from gitward.healthrules import installed_library, load_library, read_rule_files
from gitward.model import GroupKind, HealthRule, HealthStatus
from gitward.observe.health import HealthEvaluator, HealthLibrary, HealthSettings, LibraryRule

CREATED = "2026-11-30T10:00:00Z"
CREATED_EPOCH = 1_796_032_800.0  # CREATED as seconds since the epoch


class FakeClock:
    def __init__(self, wall: float) -> None:
        self.now = wall

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> float:
        return self.now


LIBRARY = load_library()


def prometheus(**extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {"name": "k8s", "namespace": "monitoring", "creationTimestamp": CREATED},
        "spec": {"replicas": 2},
        **extra,
    }


def test_a_known_kind_without_status_waits_for_its_controller() -> None:
    clock = FakeClock(CREATED_EPOCH + 60)
    verdict = HealthEvaluator((), LIBRARY, clock=clock).explain(prometheus())
    assert verdict.health.status is HealthStatus.PROGRESSING
    assert verdict.health.message == "waiting for its controller: no status yet"
    assert verdict.rule == "bundled monitoring.coreos.com/Prometheus"


def test_after_the_grace_no_controller_is_degraded() -> None:
    clock = FakeClock(CREATED_EPOCH + 60)
    evaluator = HealthEvaluator(
        (), LIBRARY, clock=clock, settings=HealthSettings(no_status_grace=300)
    )
    assert evaluator.health_of(prometheus()).status is HealthStatus.PROGRESSING
    clock.sleep(300)
    health = evaluator.health_of(prometheus())
    assert health.status is HealthStatus.DEGRADED
    assert "no controller has reported on this object for 6m" in health.message


def test_without_the_library_an_unknown_kind_without_status_is_healthy() -> None:
    assert HealthEvaluator().health_of(prometheus()).status is HealthStatus.HEALTHY


def test_an_app_rule_beats_the_bundled_rule() -> None:
    rule = HealthRule(
        kind="Prometheus",
        group="monitoring.coreos.com",
        healthy="object.spec.replicas == 2 && !has(object.status)",
        message='"accepted by the app rule"',
    )
    verdict = HealthEvaluator([rule], LIBRARY).explain(prometheus())
    assert verdict.health.status is HealthStatus.HEALTHY
    assert verdict.health.message == "accepted by the app rule"
    assert verdict.rule == "app healthChecks monitoring.coreos.com/Prometheus"


def test_an_app_rule_that_says_nothing_leaves_the_bundled_rule_in_charge() -> None:
    rule = HealthRule(kind="Prometheus", group="monitoring.coreos.com", degraded="false")
    verdict = HealthEvaluator([rule], LIBRARY).explain(prometheus())
    assert verdict.rule == "bundled monitoring.coreos.com/Prometheus"


def test_suspended_comes_first() -> None:
    rule = HealthRule(kind="Widget", group="x.io", healthy="true", suspended="spec.paused")
    widget = {"apiVersion": "x.io/v1", "kind": "Widget", "spec": {"paused": True}}
    assert HealthEvaluator([rule]).health_of(widget).status is HealthStatus.SUSPENDED


def test_an_install_folder_replaces_a_bundled_rule(tmp_path: Path) -> None:
    (tmp_path / "prometheus.yaml").write_text(
        "group: monitoring.coreos.com\nkinds: [Prometheus]\nexpectsStatus: false\n"
        'healthy: "true"\nmessage: \'"we run Prometheus without the operator"\'\n'
    )
    library = load_library([tmp_path])
    verdict = HealthEvaluator((), library).explain(prometheus())
    assert verdict.health.status is HealthStatus.HEALTHY
    assert verdict.rule == "install monitoring.coreos.com/Prometheus"


def test_a_broken_rule_file_is_named_with_its_line_and_the_others_load(tmp_path: Path) -> None:
    (tmp_path / "a-good.yaml").write_text(
        "group: x.io\nkinds: [Good]\nhealthy: 'true'\nmessage: '\"fine\"'\n"
    )
    (tmp_path / "b-broken.yaml").write_text(
        "group: x.io\nkinds: [Broken]\n# a comment\nhealthy: 'status.phase =='\n"
    )
    (tmp_path / "c-bad-yaml.yaml").write_text("group: x.io\nkinds: [Bad\n")
    library = load_library([tmp_path])
    errors = [str(e) for e in library.errors]
    assert len(errors) == 2
    assert errors[0].startswith(f"{tmp_path}/c-bad-yaml.yaml:"), errors
    assert errors[1].startswith(f"{tmp_path}/b-broken.yaml:4: "), errors
    assert "does not compile" in errors[1]
    good = {"apiVersion": "x.io/v1", "kind": "Good", "status": {"phase": "Up"}}
    assert HealthEvaluator((), library).health_of(good).message == "fine"
    # Bundled rules loaded too.
    assert library.lookup(next(iter(LIBRARY.rules))) is not None


@pytest.mark.parametrize(
    "status",
    ["Running", ["Ready"], 3, True],
    ids=["string", "list", "int", "bool"],
)
@pytest.mark.parametrize(
    "api_version",
    ["monitoring.coreos.com/v1", "apps/v1", "unknown.example.org/v1alpha1"],
)
def test_a_status_of_the_wrong_type_is_unknown(status: object, api_version: str) -> None:
    obj = prometheus(status=status) | {"apiVersion": api_version}
    health = HealthEvaluator((), LIBRARY).health_of(obj)
    assert health.status is HealthStatus.UNKNOWN
    assert "not a map" in health.message


@pytest.mark.parametrize(
    "conditions",
    [
        [{"status": "True"}],
        [{"type": 7, "status": "True"}],
        ["Ready"],
        "Ready",
        {"type": "Ready"},
        [None, {"type": "Available", "status": "False", "reason": None}],
    ],
)
@pytest.mark.parametrize(
    "api_version",
    [
        "cert-manager.io/v1",
        "kustomize.toolkit.fluxcd.io/v1",
        "unknown.example.org/v1alpha1",
    ],
)
def test_malformed_conditions_never_raise(conditions: object, api_version: str) -> None:
    obj = {
        "apiVersion": api_version,
        "kind": "Certificate" if "cert" in api_version else "Kustomization",
        "metadata": {"name": "x"},
        "status": {"conditions": conditions},
    }
    health = HealthEvaluator((), LIBRARY).health_of(obj)
    assert health.message


def test_an_enormous_message_is_truncated_with_a_note() -> None:
    message = "x" * 1_000_000
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "x"},
        "status": {"conditions": [{"type": "Ready", "status": "False", "message": message}]},
    }
    health = HealthEvaluator((), LIBRARY, settings=HealthSettings(max_message=500)).health_of(obj)
    assert health.status is HealthStatus.PROGRESSING
    assert len(health.message) < 600
    assert health.message.endswith("[message truncated: 999500 more characters]")


def test_values_cel_cannot_hold_are_unknown_not_an_exception() -> None:
    obj = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "x"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "n": 2**80},
    }
    rule = HealthRule(kind="Certificate", group="cert-manager.io", healthy="has(object.status)")
    health = HealthEvaluator([rule], LIBRARY).health_of(obj)
    assert health.status is HealthStatus.UNKNOWN
    assert health.message


def test_unknown_groups_fall_back_to_the_generic_conventions() -> None:
    obj = {
        "apiVersion": "nobody.example.org/v9",
        "kind": "Gizmo",
        "metadata": {"name": "g", "generation": 3},
        "status": {
            "observedGeneration": 3,
            "conditions": [{"type": "Ready", "status": "False", "reason": "BadConfig"}],
        },
    }
    verdict = HealthEvaluator((), LIBRARY).explain(obj)
    assert (verdict.health.status, verdict.rule) == (HealthStatus.DEGRADED, "generic")
    assert verdict.health.message == "BadConfig"


def test_the_engine_library_logs_a_broken_install_rule_and_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.yaml").write_text("group: x.io\nkinds: [Broken]\nhealthy: 'status.('\n")
    (tmp_path / "good.yaml").write_text("group: x.io\nkinds: [Good]\nhealthy: 'true'\n")
    monkeypatch.setenv("GITWARD_HEALTH_RULES", str(tmp_path))
    installed_library.cache_clear()
    try:
        with caplog.at_level(logging.ERROR, logger="gitward.health"):
            library = installed_library()
    finally:
        installed_library.cache_clear()
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith(f"health rule not loaded: {tmp_path}/broken.yaml:3: "), message
    assert "does not compile" in message
    assert library.lookup(GroupKind("x.io", "Good")) is not None
    assert library.lookup(GroupKind("x.io", "Broken")) is None
    assert library.lookup(GroupKind("cert-manager.io", "Certificate")) is not None


def widget_rule(healthy: str, source: str = "bundled") -> LibraryRule:
    rule = HealthRule(
        kind="Widget", group="x.io", healthy=healthy, origin="x.yaml", lines=(("healthy", 3),)
    )
    return LibraryRule(rule, source)


WIDGET = {"apiVersion": "x.io/v1", "kind": "Widget", "status": {"phase": "Up"}}


def test_a_lazy_library_compiles_a_rule_when_its_kind_is_first_judged() -> None:
    """The bundled library is indexed at load, not compiled: a rule that does not
    compile is only found when an object of its kind is judged; then that object is
    Unknown with the compile error (naming file and line), never silently Healthy."""
    library = HealthLibrary([widget_rule("status.(")], lazy=True)
    assert list(library.errors) == []
    verdict = HealthEvaluator((), library).explain(WIDGET)
    assert verdict.health.status is HealthStatus.UNKNOWN
    assert verdict.health.message.startswith("x.yaml:3: health rule for x.io/Widget"), verdict
    assert "does not compile" in verdict.health.message
    assert verdict.rule == "bundled x.io/Widget"
    assert [e.message for e in library.errors] == [verdict.health.message]


def test_layered_rules_compile_at_once_and_a_broken_one_keeps_the_rule_below() -> None:
    bundled = HealthLibrary([widget_rule('status.phase == "Up"')], lazy=True)
    layered = bundled.with_rules([widget_rule("status.(", "config")])
    assert len(layered.errors) == 1
    assert "x.yaml:3: " in str(layered.errors[0]), layered.errors
    verdict = HealthEvaluator((), layered).explain(WIDGET)
    assert (verdict.health.status, verdict.rule) == (HealthStatus.HEALTHY, "bundled x.io/Widget")
    assert list(bundled.errors) == []  # the library below is unchanged


def test_precedence_config_over_install_over_bundled(tmp_path: Path) -> None:
    (tmp_path / "widget.yaml").write_text(
        "group: x.io\nkinds: [Widget]\ndegraded: 'true'\nmessage: '\"install\"'\n"
    )
    bundled = HealthLibrary([widget_rule("true")], lazy=True)
    install = bundled.with_rules(*read_rule_files(tmp_path))
    assert HealthEvaluator((), install).explain(WIDGET).rule == "install x.io/Widget"
    configured = install.with_rules([widget_rule("true", "config")])
    verdict = HealthEvaluator((), configured).explain(WIDGET)
    assert (verdict.health.status, verdict.rule) == (HealthStatus.HEALTHY, "config x.io/Widget")
    assert HealthEvaluator((), bundled).explain(WIDGET).rule == "bundled x.io/Widget"
    own = HealthRule(kind="Widget", group="x.io", suspended="true")
    app = HealthEvaluator([own], configured).explain(WIDGET)
    assert (app.health.status, app.rule) == (HealthStatus.SUSPENDED, "app healthChecks x.io/Widget")
