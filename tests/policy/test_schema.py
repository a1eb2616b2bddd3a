"""OpenAPI schema validation offline: the pinned Kubernetes snapshot and CRDs in the set."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.model import Resource
from gitward.model.policy import PolicyKind, PolicyMode
from gitward.policy import catalog
from gitward.policy.schema import SchemaValidator


def deployment(**spec: Any) -> Resource:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}],
                            "resources": {"limits": {"cpu": 1, "memory": "64Mi"}},
                        }
                    ]
                },
            },
            **spec,
        },
    }
    return Resource.of(body)


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {"size": {"type": "integer", "minimum": 1}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def validator() -> SchemaValidator:
    return SchemaValidator(catalog.builtin())


def test_a_valid_deployment_with_quantities_and_int_or_string_passes(
    validator: SchemaValidator,
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}
    assert validator.validate([deployment(strategy=strategy)]) == []


def test_a_misspelt_field_is_named_with_its_path(validator: SchemaValidator) -> None:
    [violation] = validator.validate([deployment(replica=3)])
    assert violation.rule == "spec"
    assert "replica" in violation.message
    assert (violation.policy, violation.mode, violation.kind) == (
        "schema",
        PolicyMode.DENY,
        PolicyKind.SCHEMA,
    )


def test_a_wrong_type_is_named_with_its_path(validator: SchemaValidator) -> None:
    [violation] = validator.validate([deployment(replicas="two")])
    assert violation.rule == "spec.replicas"
    assert "two" in violation.message


def test_a_version_the_cluster_does_not_serve_is_invalid(validator: SchemaValidator) -> None:
    old = deployment()
    old = old.with_body({**old.body, "apiVersion": "apps/v1beta2"})
    [violation] = validator.validate([old])
    assert violation.rule == "apiVersion"
    assert "not served" in violation.message


def test_unknown_kinds_are_named_as_warnings(validator: SchemaValidator) -> None:
    gadget = Resource.of(
        {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    )
    [violation] = validator.validate([gadget])
    assert violation.mode is PolicyMode.WARN
    assert violation.message.startswith("unknown kind example.com/v1 Gadget")


def test_crds_in_the_set_add_their_schemas(validator: SchemaValidator) -> None:
    def widget(spec: dict[str, Any]) -> Resource:
        return Resource.of(
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w"},
                "spec": spec,
            }
        )

    found = validator.validate([Resource.of(CRD), widget({"size": 2}), widget({"size": 0})])
    assert [(v.key.name if v.key else "", v.rule) for v in found] == [("w", "spec.size")]
    assert (
        catalog.builtin().with_crds([Resource.of(CRD)]).plural("example.com", "Widget") == "widgets"
    )
