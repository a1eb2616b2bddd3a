"""Normalization: JSON pointers, managedFields ownership, server fields, secret masks."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.model import IgnoreDifferences, ResourceKey
from gitward.plan import managedfields, pointer
from gitward.plan.managedfields import Field, Index, Key, Value
from gitward.plan.normalize import normalize_pair, secret_as_stored, strip_server_fields

DEPLOY = ResourceKey("apps", "Deployment", "shop", "web")
SECRET = ResourceKey("", "Secret", "shop", "creds")


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        ((), ""),
        (
            ("metadata", "labels", "app.kubernetes.io/name"),
            "/metadata/labels/app.kubernetes.io~1name",
        ),
        (("a~b",), "/a~0b"),
        (("~1",), "/~01"),  # a literal "~1" must not read back as "/"
        (("spec", 0, "x"), "/spec/0/x"),
    ],
)
def test_pointer_round_trip(tokens: tuple[str | int, ...], text: str) -> None:
    assert pointer.join(tokens) == text
    assert pointer.split(text) == [str(t) for t in tokens]


@given(st.lists(st.text(alphabet="ab~/01", max_size=5), max_size=4))
def test_pointer_escaping_round_trips(tokens: list[str]) -> None:
    assert pointer.split(pointer.join(tokens)) == tokens


def test_pointer_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="start with"):
        pointer.split("spec/replicas")


@pytest.mark.parametrize(
    ("ptr", "expected"),
    [
        ("/spec/replicas", {"spec": {"list": [1, 2]}, "metadata": {"labels": {"a/b": "x"}}}),
        (
            "/spec/list/0",
            {"spec": {"replicas": 3, "list": [2]}, "metadata": {"labels": {"a/b": "x"}}},
        ),
        (
            "/metadata/labels/a~1b",
            {"spec": {"replicas": 3, "list": [1, 2]}, "metadata": {"labels": {}}},
        ),
        (
            "/spec/missing/deeper",
            {"spec": {"replicas": 3, "list": [1, 2]}, "metadata": {"labels": {"a/b": "x"}}},
        ),
        (
            "/spec/list/9",
            {"spec": {"replicas": 3, "list": [1, 2]}, "metadata": {"labels": {"a/b": "x"}}},
        ),
    ],
)
def test_pointer_remove(ptr: str, expected: dict[str, Any]) -> None:
    doc = {"spec": {"replicas": 3, "list": [1, 2]}, "metadata": {"labels": {"a/b": "x"}}}
    pointer.remove(doc, ptr)
    assert doc == expected


FIELDS_V1 = {
    "f:metadata": {"f:annotations": {"f:hpa": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:template": {
            "f:spec": {
                "f:containers": {
                    'k:{"name":"web"}': {".": {}, "f:image": {}, "f:resources": {"f:limits": {}}},
                }
            }
        },
    },
    "f:metadata2": {"f:finalizers": {'v:"example.com/x"': {}}},
    "f:ports": {"i:1": {}},
}


def test_owned_paths_parse_fields_v1() -> None:
    paths = set(managedfields.owned_paths(FIELDS_V1))
    web = Key((("name", "web"),))
    containers = (Field("spec"), Field("template"), Field("spec"), Field("containers"), web)
    assert paths == {
        (Field("metadata"), Field("annotations"), Field("hpa")),
        (Field("spec"), Field("replicas")),
        containers,
        (*containers, Field("image")),
        (*containers, Field("resources"), Field("limits")),
        (Field("metadata2"), Field("finalizers"), Value("example.com/x")),
        (Field("ports"), Index(1)),
    }


def test_unknown_path_element_is_an_error() -> None:
    with pytest.raises(ValueError, match="x:1"):
        managedfields.parse_element("x:1")


def deployment(
    replicas: int, image: str, *, managers: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "4a2f",
            "resourceVersion": "991",
            "generation": 4,
            "creationTimestamp": "2026-11-01T10:00:00Z",
            "managedFields": managers or [],
        },
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "envoy:1"},
                        {"name": "web", "image": image, "resources": {"limits": {"cpu": "1"}}},
                    ]
                }
            },
        },
        "status": {"replicas": replicas},
    }


HPA_OWNS = {
    "manager": "kube-controller-manager",
    "operation": "Update",
    "fieldsV1": {"f:spec": {"f:replicas": {}}},
}
SIDECAR_OWNS = {
    "manager": "injector",
    "operation": "Update",
    "fieldsV1": {
        "f:spec": {
            "f:template": {
                "f:spec": {"f:containers": {'k:{"name":"sidecar"}': {".": {}, "f:image": {}}}}
            }
        }
    },
}


def test_strip_server_fields() -> None:
    stripped = strip_server_fields(deployment(3, "web:1"))
    assert "status" not in stripped
    assert stripped["metadata"] == {"name": "web", "namespace": "shop"}


def test_normalize_does_not_mutate_its_inputs() -> None:
    live = deployment(3, "web:1", managers=[HPA_OWNS])
    before = copy.deepcopy(live)
    rules = (IgnoreDifferences(kind="Deployment", group="apps", json_pointers=("/spec/replicas",)),)
    normalize_pair(DEPLOY, live, live, rules)
    assert live == before


@pytest.mark.parametrize(
    ("rule", "equal"),
    [
        (None, False),
        (
            IgnoreDifferences(kind="Deployment", group="apps", json_pointers=("/spec/replicas",)),
            True,
        ),
        (
            IgnoreDifferences(
                kind="Deployment",
                group="apps",
                managed_fields_managers=("kube-controller-manager",),
            ),
            True,
        ),
        (
            IgnoreDifferences(
                kind="Deployment", group="apps", managed_fields_managers=("someone-else",)
            ),
            False,
        ),
        (IgnoreDifferences(kind="Deployment", group="", json_pointers=("/spec/replicas",)), False),
        (IgnoreDifferences(kind="*", group="*", json_pointers=("/spec/replicas",)), True),
        (
            IgnoreDifferences(
                kind="Deployment", group="apps", name="api", json_pointers=("/spec/replicas",)
            ),
            False,
        ),
        (
            IgnoreDifferences(
                kind="Deployment", group="apps", namespace="shop", json_pointers=("/spec/replicas",)
            ),
            True,
        ),
    ],
)
def test_ignore_rules(rule: IgnoreDifferences | None, equal: bool) -> None:
    live = deployment(5, "web:1", managers=[HPA_OWNS])
    predicted = deployment(3, "web:1", managers=[HPA_OWNS])
    after, before = normalize_pair(DEPLOY, predicted, live, (rule,) if rule else ())
    assert (after == before) is equal


def test_managed_fields_rule_drops_keyed_list_items() -> None:
    live = deployment(3, "web:1", managers=[SIDECAR_OWNS])
    predicted = copy.deepcopy(live)
    predicted["spec"]["template"]["spec"]["containers"][0]["image"] = "envoy:2"
    rule = IgnoreDifferences(kind="Deployment", group="apps", managed_fields_managers=("injector",))
    after, before = normalize_pair(DEPLOY, predicted, live, (rule,))
    assert after == before
    assert after is not None
    assert [c["name"] for c in after["spec"]["template"]["spec"]["containers"]] == ["web"]


def secret(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "shop"},
        "data": data,
    }


def test_secret_masks_equal_for_equal_values_and_different_otherwise() -> None:
    live = secret(user="YWRtaW4=", password="b2xk", token="dA==")
    desired = secret(user="YWRtaW4=", password="bmV3", token="dA==")
    after, before = normalize_pair(SECRET, desired, live)
    assert after is not None
    assert before is not None
    assert after["data"]["user"] == before["data"]["user"]
    assert after["data"]["token"] == before["data"]["token"]
    assert after["data"]["password"] != before["data"]["password"]
    masks = {*after["data"].values(), *before["data"].values()}
    assert all(set(m) == {"+"} and len(m) >= 8 for m in masks)
    assert "YWRtaW4=" not in repr((after, before))


def test_last_applied_annotation_of_a_secret_is_masked() -> None:
    live = secret(a="eA==")
    live["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"a":"eA=="}}'
    }
    _, before = normalize_pair(SECRET, secret(a="eA=="), live)
    assert before is not None
    assert "eA==" not in repr(before)


def test_secret_as_stored_encodes_string_data() -> None:
    body = secret(a="eA==")
    body["stringData"] = {"b": "y"}
    assert secret_as_stored(body)["data"] == {"a": "eA==", "b": "eQ=="}
    assert "stringData" not in secret_as_stored(body)


@given(
    st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["eA==", "eQ==", "eg==", ""])),
    st.dictionaries(st.sampled_from("abcde"), st.sampled_from(["eA==", "eQ==", "eg==", ""])),
)
def test_masks_are_equal_exactly_when_values_are(
    left: dict[str, str], right: dict[str, str]
) -> None:
    after, before = normalize_pair(SECRET, secret(**left), secret(**right))
    assert after is not None
    assert before is not None
    raw = [*left.values(), *right.values()]
    masked = [*after["data"].values(), *before["data"].values()]
    for i, value in enumerate(raw):
        for j, other in enumerate(raw):
            assert (value == other) == (masked[i] == masked[j])
