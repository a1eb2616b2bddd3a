"""AppProject rules: Argo CD's documents read unchanged, and what they allow and refuse."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitward.errors import ConfigError
from gitward.model import AppSpec, Destination, GroupKind, Resource, SourceSpec
from gitward.model.policy import PolicyKind, PolicyMode
from gitward.policy.project import check_project
from gitward.spec.project import parse_project

TEAM_A = """
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: team-a
  namespace: argocd
spec:
  description: Team A's apps
  sourceRepos:
    - https://git.example.com/team-a/*
    - '!https://git.example.com/team-a/secret-stuff'
  destinations:
    - server: https://kubernetes.default.svc
      namespace: team-a-*
    - name: staging
      namespace: '*'
    - name: staging
      namespace: '!kube-system'
  clusterResourceWhitelist:
    - group: ''
      kind: Namespace
  namespaceResourceBlacklist:
    - group: ''
      kind: ResourceQuota
  roles:
    - name: read-only
      policies: [p, proj:team-a:read-only, applications, get, team-a/*, allow]
"""

NAMESPACED = {
    GroupKind("", "ConfigMap"),
    GroupKind("", "ResourceQuota"),
    GroupKind("apps", "Deployment"),
}


def scope(gk: GroupKind) -> bool | None:
    if gk in NAMESPACED:
        return True
    if gk in {GroupKind("", "Namespace"), GroupKind("rbac.authorization.k8s.io", "ClusterRole")}:
        return False
    return None


def project(text: str = TEAM_A) -> Any:
    return parse_project(yaml.safe_load(text), "projects/team-a.yaml")


def app(
    repo: str = "https://git.example.com/team-a/web.git",
    cluster: str | None = None,
    namespace: str | None = "team-a-web",
) -> AppSpec:
    return AppSpec(
        "web",
        SourceSpec(repo),
        Destination(name=cluster, namespace=namespace),
        project="team-a",
    )


def obj(api_version: str, kind: str, name: str, namespace: str | None = None) -> Resource:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return Resource.of({"apiVersion": api_version, "kind": kind, "metadata": meta})


def test_argo_document_is_read_unchanged() -> None:
    p = project()
    assert p.name == "team-a"
    assert p.source_repos[1] == "!https://git.example.com/team-a/secret-stuff"
    assert p.destinations[0].namespace == "team-a-*"
    assert [str(k) for k in p.cluster_whitelist] == ["(core)/Namespace"]
    assert p.namespace_whitelist is None  # not given: every namespaced kind allowed


def test_allowed_app_has_no_violations() -> None:
    resources = [
        obj("apps/v1", "Deployment", "web"),
        obj("v1", "ConfigMap", "conf", "team-a-web"),
        obj("v1", "Namespace", "team-a-web"),
    ]
    assert check_project(project(), app(), resources, scope) == []


def test_cluster_role_is_refused_with_a_clear_message() -> None:
    role = obj("rbac.authorization.k8s.io/v1", "ClusterRole", "admin-ish")
    [violation] = check_project(project(), app(), [role], scope)
    assert violation.key == role.key
    assert violation.mode is PolicyMode.DENY
    assert violation.kind is PolicyKind.PROJECT
    assert violation.policy == "AppProject/team-a"
    assert violation.rule == "clusterResourceWhitelist"
    assert violation.message == (
        "cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in "
        "project 'team-a' (clusterResourceWhitelist does not list it)"
    )


def test_blacklisted_namespaced_kind_is_refused() -> None:
    quota = obj("v1", "ResourceQuota", "q")
    [violation] = check_project(project(), app(), [quota], scope)
    assert violation.rule == "namespaceResourceBlacklist"
    assert "denies it" in violation.message


@pytest.mark.parametrize(
    ("repo", "allowed"),
    [
        ("https://git.example.com/team-a/web.git", True),
        ("https://git.example.com/TEAM-A/web/", True),  # case and trailing slash ignored
        ("https://git.example.com/team-a/secret-stuff.git", False),  # negated entry
        ("https://git.example.com/team-b/web.git", False),
    ],
)
def test_source_repositories(repo: str, allowed: bool) -> None:
    found = check_project(project(), app(repo=repo), [], scope)
    assert [v.rule for v in found] == ([] if allowed else ["sourceRepos"])
    if not allowed:
        assert found[0].key is None
        assert repo in found[0].message


@pytest.mark.parametrize(
    ("cluster", "namespace", "allowed"),
    [
        (None, "team-a-web", True),  # in-cluster server, matching glob
        (None, "default", False),
        ("staging", "anything", True),
        ("staging", "kube-system", False),  # the negated entry wins
        ("production", "team-a-web", False),
    ],
)
def test_destinations(cluster: str | None, namespace: str, allowed: bool) -> None:
    found = check_project(project(), app(cluster=cluster, namespace=namespace), [], scope)
    assert [v.rule for v in found] == ([] if allowed else ["destinations"])


def test_object_in_a_namespace_outside_the_destinations_is_refused() -> None:
    escaped = obj("v1", "ConfigMap", "c", "kube-public")
    [violation] = check_project(project(), app(), [escaped], scope)
    assert violation.key == escaped.key
    assert violation.rule == "destinations"
    assert "'kube-public'" in violation.message


def test_unknown_kind_without_namespace_counts_as_cluster_scoped() -> None:
    widget = obj("example.com/v1", "Widget", "w")
    [violation] = check_project(project(), app(), [widget], scope)
    assert violation.rule == "clusterResourceWhitelist"


def test_namespace_whitelist_limits_namespaced_kinds() -> None:
    text = TEAM_A.replace(
        "  namespaceResourceBlacklist:",
        "  namespaceResourceWhitelist:\n    - {group: apps, kind: '*'}\n"
        "  namespaceResourceBlacklist:",
    )
    found = check_project(
        project(text),
        app(),
        [obj("apps/v1", "Deployment", "d"), obj("v1", "ConfigMap", "c")],
        scope,
    )
    assert [(v.key.kind if v.key else None, v.rule) for v in found] == [
        ("ConfigMap", "namespaceResourceWhitelist")
    ]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("syncWindows", [{"kind": "allow", "schedule": "* * * * *"}], "sync windows"),
        ("destinations", [{"namespace": "x"}], "server"),
        ("sourceRepo", ["x"], "not a known field"),
    ],
)
def test_bad_documents_are_clear_errors(field: str, value: object, error: str) -> None:
    doc = yaml.safe_load(TEAM_A)
    doc["spec"][field] = value
    with pytest.raises(ConfigError, match=error) as raised:
        parse_project(doc, "projects/team-a.yaml")
    assert "projects/team-a.yaml" in str(raised.value)
