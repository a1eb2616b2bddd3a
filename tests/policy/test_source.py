"""Policies read from a path in Git follow its commits; local ones and projects join in."""

from __future__ import annotations

from pathlib import Path

import yaml

from gitward.model import AppSpec, Destination, Resource, SourceSpec
from gitward.policy.opa import OpaPool
from gitward.policy.set import PolicySet
from gitward.policy.source import GitPolicyPath, PolicySource
from gitward.source import GitRepositorySource
from gitward.spec.project import parse_project
from tests.engine.conftest import GitRepo
from tests.policy import policies as p


def objects() -> list[Resource]:
    return [Resource.of(yaml.safe_load(p.deployment("web", "nginx:latest", replicas=5)))]


def test_a_policy_commit_takes_effect_at_the_next_check(
    repo: GitRepo, tmp_path: Path, opa_binary: Path
) -> None:
    repo.write({"policies/latest.rego": p.NO_LATEST_REGO})
    repo.commit("policies")
    pools: list[OpaPool] = []

    def backend() -> OpaPool:
        pools.append(OpaPool(opa_binary))
        return pools[-1]

    source = PolicySource(
        PolicySet(),
        backend,
        git=GitRepositorySource(tmp_path / "git"),
        in_git=GitPolicyPath(str(repo.path), "policies", "main"),
    )
    app = AppSpec("web", SourceSpec("https://git.example.com/x.git"), Destination(namespace="a"))
    try:
        first = source.check(app, objects())
        assert [v.message for v in first.violations] == ['container "app" uses the :latest tag']
        repo.write({"policies/replicas.yaml": p.MAX_REPLICAS_VAP})
        repo.remove("policies/latest.rego")
        repo.commit("swap the policies")
        second = source.check(app, objects())
        assert [(v.policy, v.message) for v in second.violations] == [
            ("max-replicas", "at most 3 replicas, got 5")
        ]
        assert len(pools) == 1  # one backend for the controller's lifetime
    finally:
        source.close()


def test_declared_projects_apply(tmp_path: Path) -> None:
    project = parse_project(yaml.safe_load(p.NO_CLUSTER_ROLES_PROJECT), "config/project.yaml")
    source = PolicySource(
        PolicySet(), lambda: OpaPool(tmp_path), projects=lambda: {"team": project}
    )
    app = AppSpec("web", SourceSpec("https://x"), Destination(namespace="team-a"), project="team")
    role = Resource.of(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "r"},
        }
    )
    [violation] = source.check(app, [role]).violations
    assert violation.rule == "clusterResourceWhitelist"
