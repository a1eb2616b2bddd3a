"""The policy stage in real syncs: a denial applies nothing, a warning applies and is
recorded, the same policies and messages as `gitward validate`; projects enforced."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import yaml

from gitward import compose
from gitward.devcluster import ClusterState
from gitward.errors import PolicyError
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.model.policy import PolicyMode
from gitward.policy.set import PolicyChecker
from gitward.reconcile.pipeline import Engine, SyncOptions
from gitward.spec.project import parse_project
from tests.engine.conftest import GitRepo, app
from tests.policy import policies as p

pytestmark = pytest.mark.cluster


@pytest.fixture
async def cluster(control_plane: ClusterState) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as client:
        yield client


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "no-latest.rego").write_text(p.NO_LATEST_REGO)
    (folder / "limits.rego").write_text(p.LIMITS_REGO)
    (folder / "team.rego").write_text(p.TEAM_LABEL_REGO)
    (folder / "replicas.yaml").write_text(p.MAX_REPLICAS_VAP)
    return folder


@pytest.fixture
def checker(policies: Path, opa_binary: Path) -> Iterator[PolicyChecker]:
    os.environ.setdefault("GITWARD_OPA", str(opa_binary))
    checker = compose.policy_checker([policies])
    yield checker
    checker.close()


def engine_with(cluster: KubeClient, tmp_path: Path, checker: PolicyChecker) -> Engine:
    return compose.engine(compose.Settings(cache_dir=tmp_path / "cache"), cluster, policy=checker)


async def deployments(cluster: KubeClient, namespace: str) -> list[str]:
    found = await cluster.list("apps", "Deployment", namespace=namespace)
    return sorted(d["metadata"]["name"] for d in found)


async def test_a_deny_policy_refuses_the_whole_sync_and_applies_nothing(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path, checker: PolicyChecker
) -> None:
    repo.write(
        {
            "app/good.yaml": p.deployment("good", "nginx:1.27"),
            "app/latest.yaml": p.deployment("latest", "nginx:latest"),
            "app/nolimits.yaml": p.deployment("nolimits", "nginx:1.27", limits=False),
        }
    )
    repo.commit()
    spec = app(repo, "app", namespace, name="denied")
    with pytest.raises(PolicyError) as raised:
        await engine_with(cluster, tmp_path, checker).sync(spec, SyncOptions(wait=False))
    verdict = raised.value.verdict
    assert [(v.key, v.policy, v.message) for v in verdict.denials] == [
        (
            ResourceKey("apps", "Deployment", namespace, "latest"),
            "kubernetes.images",
            'container "app" uses the :latest tag',
        ),
        (
            ResourceKey("apps", "Deployment", namespace, "nolimits"),
            "kubernetes.limits",
            'container "app" of Deployment nolimits has no resource limits',
        ),
    ]
    assert "2 denied" in raised.value.message
    assert 'container "app" uses the :latest tag' in raised.value.message
    assert await deployments(cluster, namespace) == []  # not even the good one


async def test_warnings_apply_and_are_returned(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path, checker: PolicyChecker
) -> None:
    repo.write({"app/api.yaml": p.deployment("api", "nginx:1.27", team=None)})
    repo.commit()
    spec = app(repo, "app", namespace, name="warned")
    result = await engine_with(cluster, tmp_path, checker).sync(spec, SyncOptions(wait=False))
    assert not result.failed
    assert await deployments(cluster, namespace) == ["api"]
    assert [(v.mode, v.policy, v.rule, v.message) for v in result.verdict.violations] == [
        (PolicyMode.WARN, "kubernetes.labels", "warn_team", "Deployment api has no team label")
    ]


async def test_a_cel_admission_policy_refuses_the_sync(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path, checker: PolicyChecker
) -> None:
    repo.write({"app/big.yaml": p.deployment("big", "nginx:1.27", replicas=5)})
    repo.commit()
    spec = app(repo, "app", namespace, name="cel")
    with pytest.raises(PolicyError) as raised:
        await engine_with(cluster, tmp_path, checker).sync(spec, SyncOptions(wait=False))
    [denial] = raised.value.verdict.denials
    assert (denial.policy, denial.rule, denial.message) == (
        "max-replicas",
        "validations[0]",
        "at most 3 replicas, got 5",
    )
    assert await deployments(cluster, namespace) == []


def project_checker(namespace_glob: str) -> PolicyChecker:
    doc = yaml.safe_load(p.NO_CLUSTER_ROLES_PROJECT)
    doc["spec"]["destinations"][0]["namespace"] = namespace_glob
    project = parse_project(doc, "config/project.yaml")
    return compose.policy_checker([], projects={"team": project})


async def test_a_project_that_denies_cluster_roles_refuses_the_app(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path
) -> None:
    repo.write(
        {
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
            "app/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
            f"metadata: {{name: reader-{namespace}}}\nrules: []\n",
        }
    )
    repo.commit()
    spec = dataclasses.replace(app(repo, "app", namespace, name="proj"), project="team")
    with pytest.raises(PolicyError) as raised:
        await engine_with(cluster, tmp_path, project_checker("t-*")).sync(spec, SyncOptions())
    [denial] = raised.value.verdict.denials
    assert denial.message == (
        "cluster-scoped kind rbac.authorization.k8s.io/ClusterRole is not permitted in "
        "project 'team' (clusterResourceWhitelist does not list it)"
    )
    assert (
        await cluster.get(
            ResourceKey("rbac.authorization.k8s.io", "ClusterRole", "", f"reader-{namespace}")
        )
        is None
    )
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings")) is None


async def test_project_destinations_are_enforced(
    repo: GitRepo, cluster: KubeClient, namespace: str, tmp_path: Path
) -> None:
    repo.write({"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"})
    repo.commit()
    spec = dataclasses.replace(app(repo, "app", namespace, name="dest"), project="team")
    with pytest.raises(PolicyError, match="is not permitted in project 'team'"):
        await engine_with(cluster, tmp_path, project_checker("prod-*")).sync(spec, SyncOptions())
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings")) is None
    allowed = await engine_with(cluster, tmp_path, project_checker(namespace)).sync(
        spec, SyncOptions(wait=False)
    )
    assert not allowed.failed
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings")) is not None


def test_the_cli_refuses_with_the_same_messages_as_validate(  # noqa: PLR0917
    repo: GitRepo,
    control_plane: ClusterState,
    namespace: str,
    policies: Path,
    opa_binary: Path,
    tmp_path: Path,
) -> None:
    repo.write({"app/web.yaml": p.deployment("web", "nginx:latest")})
    repo.commit()
    env = {
        **os.environ,
        "KUBECONFIG": control_plane.kubeconfig,
        "GITWARD_OPA": str(opa_binary),
        "NO_COLOR": "1",
        "COLUMNS": "250",
    }
    base = ["--repo", str(repo.path), "--path", "app", "--policy", str(policies)]

    def gitward(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gitward", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )

    synced = gitward("sync", *base, "-n", namespace, "--name", f"cli-{namespace}")
    validated = gitward("validate", *base, "-n", namespace)
    assert synced.returncode == 1, synced.stderr
    assert validated.returncode == 1, validated.stderr
    message = 'container "app" uses the :latest tag'
    assert message in synced.stderr
    assert message in validated.stdout
    assert "refused by policy" in synced.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "gitward", "diff", *base, "-n", namespace],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert listed.returncode == 1
    assert message in listed.stderr
