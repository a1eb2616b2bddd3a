"""ValidatingAdmissionPolicies evaluated offline with CEL, as the API server would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitward.errors import InvalidPolicyError
from gitward.model import AppSpec, Destination, Resource, SourceSpec
from gitward.model.policy import PolicyKind, PolicyMode
from gitward.policy.catalog import Catalog
from gitward.policy.load import load_policies
from gitward.policy.set import PolicyChecker

REPLICAS = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
      - apiGroups: [apps]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [deployments]
  variables:
    - name: max
      expression: int(params.data.maxReplicas)
  validations:
    - expression: object.spec.replicas <= variables.max
      messageExpression: >-
        'replicas must be at most ' + string(variables.max)
        + ', got ' + string(object.spec.replicas)
      reason: Invalid
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-prod
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: replica-limit, namespace: policies, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector:
      matchLabels: {env: prod}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-dev
spec:
  policyName: replica-limit
  validationActions: [Warn, Audit]
  paramRef: {name: replica-limit, namespace: policies, parameterNotFoundAction: Deny}
  matchResources:
    namespaceSelector:
      matchExpressions: [{key: env, operator: NotIn, values: [prod]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: replica-limit, namespace: policies}
data: {maxReplicas: "3"}
"""

NO_LATEST = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-latest
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: ["", apps]
        apiVersions: ["*"]
        operations: ["*"]
        resources: [pods, deployments]
  matchConditions:
    - name: not-exempt
      expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
  validations:
    - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
      message: images must not use the :latest tag
"""


def deployment(
    name: str,
    namespace: str,
    replicas: int,
    image: str = "nginx:1.27",
    labels: dict[str, str] | None = None,
) -> Resource:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return Resource.of(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [{"name": "app", "image": image}]}},
            },
        }
    )


def namespace(name: str, env: str) -> Resource:
    return Resource.of(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {"env": env}},
        }
    )


APP = AppSpec("shop", SourceSpec("https://git.example.com/shop.git"), Destination(namespace="shop"))


def checker(tmp_path: Path, text: str) -> PolicyChecker:
    (tmp_path / "policy.yaml").write_text(text)
    return PolicyChecker(load_policies([tmp_path / "policy.yaml"]), catalog=Catalog({}))


def test_bindings_decide_deny_or_warn_with_params_and_message_expression(tmp_path: Path) -> None:
    big_prod = deployment("api", "prod-ns", 5)
    big_dev = deployment("api", "dev-ns", 4)
    small = deployment("small", "prod-ns", 2)
    objects = [namespace("prod-ns", "prod"), namespace("dev-ns", "dev"), big_prod, big_dev, small]
    verdict = checker(tmp_path, REPLICAS).check(APP, objects)
    assert [(v.key, v.policy, v.rule, v.message, v.mode, v.kind) for v in verdict.violations] == [
        (
            big_prod.key,
            "replica-limit",
            "validations[0]",
            "replicas must be at most 3, got 5",
            PolicyMode.DENY,
            PolicyKind.CEL,
        ),
        (
            big_dev.key,
            "replica-limit",
            "validations[0]",
            "replicas must be at most 3, got 4",
            PolicyMode.WARN,
            PolicyKind.CEL,
        ),
    ]


def test_missing_params_deny(tmp_path: Path) -> None:
    text = REPLICAS.replace(
        "name: replica-limit, namespace: policies}\ndata", "name: other, namespace: policies}\ndata"
    )
    verdict = checker(tmp_path, text).check(APP, [namespace("p", "prod"), deployment("a", "p", 1)])
    [violation] = verdict.violations
    assert violation.rule == "paramRef"
    assert "no parameter object replica-limit was found" in violation.message


def test_unbound_policy_applies_with_deny_and_match_conditions(tmp_path: Path) -> None:
    latest = deployment("web", "shop", 1, image="nginx:latest")
    exempt = deployment("tool", "shop", 1, image="busybox:latest", labels={"exempt": "yes"})
    pinned = deployment("ok", "shop", 1)
    verdict = checker(tmp_path, NO_LATEST).check(APP, [latest, exempt, pinned])
    assert [(v.key, v.message, v.mode) for v in verdict.violations] == [
        (latest.key, "images must not use the :latest tag", PolicyMode.DENY)
    ]


def test_resource_rules_use_the_kind_to_resource_mapping(tmp_path: Path) -> None:
    text = NO_LATEST.replace("resources: [pods, deployments]", "resources: [statefulsets]")
    verdict = checker(tmp_path, text).check(APP, [deployment("web", "shop", 1, image="x:latest")])
    assert verdict.violations == ()


def test_an_expression_that_fails_is_a_violation_when_failure_policy_is_fail(
    tmp_path: Path,
) -> None:
    text = NO_LATEST.replace("object.spec.template.spec.containers.all", "object.spec.nothing.all")
    [violation] = checker(tmp_path, text).check(APP, [deployment("w", "shop", 1)]).violations
    assert "failed" in violation.message
    assert "nothing" in violation.message
    ignored = text.replace(
        "spec:\n  matchConstraints", "spec:\n  failurePolicy: Ignore\n  matchConstraints"
    )
    assert checker(tmp_path, ignored).check(APP, [deployment("w", "shop", 1)]).violations == ()


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (
            "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest')) &&",
            r"validations\[0\]\.expression: CEL does not compile",
        ),
        ("authorizer.group('apps').check('x').allowed()", "needs a live cluster"),
    ],
)
def test_bad_expressions_are_refused_at_load_naming_file_and_field(
    tmp_path: Path, broken: str, error: str
) -> None:
    text = NO_LATEST.replace(
        "\"object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))\"",
        f'"{broken}"',
    )
    with pytest.raises(InvalidPolicyError, match=error) as raised:
        checker(tmp_path, text)
    assert "policy.yaml: ValidatingAdmissionPolicy no-latest" in str(raised.value)


def test_a_stray_document_is_not_silently_ignored(tmp_path: Path) -> None:
    stray = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
    with pytest.raises(InvalidPolicyError, match="Secret in v1 is not a policy document"):
        checker(tmp_path, NO_LATEST + "---\n" + stray)
