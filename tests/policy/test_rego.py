"""Rego policies with the real OPA: Conftest-style deny/warn rules, one query per app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitward.errors import InvalidPolicyError
from gitward.model import AppSpec, Resource, SourceSpec
from gitward.model.policy import PolicyMode
from gitward.policy.catalog import Catalog
from gitward.policy.load import load_policies
from gitward.policy.opa import OpaPool
from gitward.policy.rego import RegoBundle, RegoModule
from gitward.policy.set import PolicyChecker

NO_LATEST = """\
package kubernetes.images

deny contains msg if {
	some c in input.spec.template.spec.containers
	endswith(c.image, ":latest")
	msg := sprintf(
		"container %q in %s %s uses the :latest tag",
		[c.name, input.kind, input.metadata.name],
	)
}
"""

LIMITS = """\
package kubernetes.limits

import data.lib.k8s

deny_no_limits contains {"msg": msg} if {
	input.kind == "Deployment"
	some c in input.spec.template.spec.containers
	not k8s.has_limits(c)
	msg := sprintf("container %q has no resource limits", [c.name])
}

warn contains "Deployment without a team label" if {
	input.kind == "Deployment"
	not input.metadata.labels.team
}
"""

LIB = """\
package lib.k8s

has_limits(c) if {
	c.resources.limits.cpu
	c.resources.limits.memory
}
"""


def deployment(name: str, image: str, limits: bool = True, team: bool = True) -> Resource:
    container: dict[str, Any] = {"name": "app", "image": image}
    if limits:
        container["resources"] = {"limits": {"cpu": "100m", "memory": "64Mi"}}
    meta: dict[str, Any] = {"name": name, "namespace": "shop"}
    if team:
        meta["labels"] = {"team": "a"}
    return Resource.of(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {"template": {"spec": {"containers": [container]}}},
        }
    )


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


APP = AppSpec("shop", SourceSpec("https://git.example.com/shop.git"))


def test_deny_and_warn_rules_name_object_policy_rule_and_message(
    opa: OpaPool, tmp_path: Path
) -> None:
    # lib.rego sorts after limits.rego: loading must not depend on file order.
    root = write(tmp_path, {"latest.rego": NO_LATEST, "limits.rego": LIMITS, "z/lib.rego": LIB})
    checker = PolicyChecker(load_policies([root]), opa, Catalog({}))
    good = deployment("good", "nginx:1.27")
    latest = deployment("latest", "nginx:latest")
    bare = deployment("bare", "nginx:1.27", limits=False, team=False)
    verdict = checker.check(APP, [good, latest, bare])
    assert [(v.key, v.policy, v.rule, v.message, v.mode) for v in verdict.violations] == [
        (
            bare.key,
            "kubernetes.limits",
            "deny_no_limits",
            'container "app" has no resource limits',
            PolicyMode.DENY,
        ),
        (
            latest.key,
            "kubernetes.images",
            "deny",
            'container "app" in Deployment latest uses the :latest tag',
            PolicyMode.DENY,
        ),
        (
            bare.key,
            "kubernetes.limits",
            "warn",
            "Deployment without a team label",
            PolicyMode.WARN,
        ),
    ]
    assert verdict.denied


def test_one_server_serves_many_checks(opa: OpaPool, tmp_path: Path) -> None:
    checker = PolicyChecker(
        load_policies([write(tmp_path, {"p.rego": NO_LATEST})]), opa, Catalog({})
    )
    for i in range(5):
        verdict = checker.check(APP, [deployment(f"d{i}", "nginx:latest")])
        assert len(verdict.denials) == 1
    assert opa.starts == 1


def test_changed_policies_get_a_fresh_server(opa: OpaPool) -> None:
    first = RegoBundle.of([RegoModule("p.rego", NO_LATEST)])
    second = RegoBundle.of([RegoModule("p.rego", NO_LATEST.replace(":latest", ":dev"))])
    objects = [deployment("d", "nginx:dev").body]
    assert opa.evaluate(first, objects)[0]["kubernetes.images"]["deny"] == []
    assert len(opa.evaluate(second, objects)[0]["kubernetes.images"]["deny"]) == 1
    assert opa.starts == 2


def test_a_dead_server_is_replaced(opa: OpaPool) -> None:
    bundle = RegoBundle.of([RegoModule("p.rego", NO_LATEST)])
    first = opa.server(bundle)
    first._process.kill()  # type: ignore[union-attr]
    first._process.wait()  # type: ignore[union-attr]  # the killed one, not its successor
    result = opa.evaluate(bundle, [deployment("d", "nginx:latest").body])
    assert len(result[0]["kubernetes.images"]["deny"]) == 1
    assert opa.server(bundle) is not first


@pytest.mark.parametrize(
    ("text", "location", "problem"),
    [
        (
            "package bad\n\ndeny contains msg if {\n\tmsg := nope(input)\n}\n",
            "bad.rego:4",
            "undefined function nope",
        ),
        ('package bad\n\ndeny contains msg if {\n\tmsg := "x"\n', "bad.rego:", "unexpected eof"),
    ],
)
def test_compile_errors_name_file_and_line(
    opa: OpaPool, tmp_path: Path, text: str, location: str, problem: str
) -> None:
    root = write(tmp_path, {"ok.rego": NO_LATEST, "bad.rego": text})
    checker = PolicyChecker(load_policies([root]), opa, Catalog({}))
    with pytest.raises(InvalidPolicyError) as raised:
        checker.check(APP, [deployment("d", "nginx")])
    assert raised.value.location is not None
    assert raised.value.location.startswith(location)
    assert problem in raised.value.message


def test_module_without_package_is_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicyError, match="package declaration") as raised:
        load_policies([write(tmp_path, {"p.rego": "deny contains 1 if { true }\n"})])
    assert raised.value.location == "p.rego:1"
