"""`gitward render | diff | sync` as a user runs them, on real-world manifests.

The podinfo Kustomize app and Helm chart and the ten Prometheus Operator CRDs (up to
830 KB each, far past client-side apply's annotation limit) are synced into the real
control plane, must become healthy, and ``gitward diff`` must then report no difference.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward.devcluster import ClusterState
from tests.engine.conftest import TESTDATA, GitRepo

pytestmark = pytest.mark.cluster


def gitward(*args: str, cluster: ClusterState, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KUBECONFIG": cluster.kubeconfig,
        "GITWARD_CACHE_DIR": str(cache),
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "gitward", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def sync_json(*args: str, cluster: ClusterState, cache: Path) -> dict[str, Any]:
    result = gitward("sync", *args, "-o", "json", cluster=cluster, cache=cache)
    assert result.returncode == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def assert_in_sync(*args: str, cluster: ClusterState, cache: Path) -> None:
    result = gitward("diff", *args, cluster=cluster, cache=cache)
    assert result.returncode == 0, f"diff after sync is not empty:\n{result.stdout}{result.stderr}"
    assert result.stdout == ""


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_podinfo_kustomize_syncs_healthy_without_diff(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    repo.copy(TESTDATA / "podinfo" / "kustomize", "podinfo")
    repo.commit()
    # Each test names its app: two tests syncing an app called "podinfo" would share
    # one inventory, and each would see the other's objects as its own to keep.
    name = f"podinfo-{namespace}"
    source = ("--repo", str(repo.path), "--path", "podinfo", "-n", namespace, "--name", name)

    data = sync_json(*source, cluster=control_plane, cache=cache)

    assert data["result"] == "succeeded"
    kinds = {o["kind"]: o for o in data["objects"]}
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler"}
    assert kinds["Deployment"]["health"]["status"] == "Healthy"
    assert all(o["action"] == "created" for o in data["objects"])
    assert_in_sync(*source, cluster=control_plane, cache=cache)


def test_podinfo_helm_chart_syncs_healthy_without_diff(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    repo.copy(TESTDATA / "podinfo" / "charts" / "podinfo", "charts/podinfo")
    repo.commit()
    source = (
        "--repo",
        str(repo.path),
        "--path",
        "charts/podinfo",
        "--name",
        f"podinfo-chart-{namespace}",
        "-n",
        namespace,
        "--helm-release",
        "web",
        "--values-file",
        "values-prod.yaml",
        "--values",
        "replicaCount: 2\nhpa: {enabled: false}\n",
    )

    data = sync_json(*source, cluster=control_plane, cache=cache)

    assert data["result"] == "succeeded"
    assert data["health"] == "Healthy"
    deployments = [o for o in data["objects"] if o["kind"] == "Deployment"]
    assert deployments
    assert all(d["health"]["status"] == "Healthy" for d in deployments)
    assert_in_sync(*source, cluster=control_plane, cache=cache)


SERVICE_MONITOR = """apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: http, interval: 30s}]
"""


def test_prometheus_operator_crds_and_a_custom_resource(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    crds = TESTDATA / "prometheus-operator-crds"
    for path in sorted(crds.glob("*.yaml")):
        repo.write({f"monitoring/{path.name}": path.read_text()})
    repo.write({"monitoring/servicemonitor.yaml": SERVICE_MONITOR})
    repo.commit()
    assert max(p.stat().st_size for p in crds.glob("*.yaml")) > 800_000
    source = (
        "--repo",
        str(repo.path),
        "--path",
        "monitoring",
        "-n",
        namespace,
        "--name",
        f"monitoring-{namespace}",
    )

    data = sync_json(*source, cluster=control_plane, cache=cache)

    assert data["result"] == "succeeded"
    crd_objects = [o for o in data["objects"] if o["kind"] == "CustomResourceDefinition"]
    assert len(crd_objects) == 10
    assert all(o["health"]["status"] == "Healthy" for o in crd_objects)
    assert any(
        o["kind"] == "ServiceMonitor" and o["action"] in ("created", "configured")
        for o in data["objects"]
    )
    assert_in_sync(*source, cluster=control_plane, cache=cache)


SECRET = """apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2-very-secret}
"""


def test_secret_values_never_appear_in_diff_or_sync_output(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    repo.write({"app/secret.yaml": SECRET})
    repo.commit()
    source = ("--repo", str(repo.path), "--path", "app", "-n", namespace, "--name", "secret")
    plain = "hunter2-very-secret"
    encoded = base64.b64encode(plain.encode()).decode()

    before = gitward("diff", *source, cluster=control_plane, cache=cache)
    assert before.returncode == 1
    assert "Secret" in before.stdout
    synced = gitward("sync", *source, "-o", "json", cluster=control_plane, cache=cache)
    repo.write({"app/secret.yaml": SECRET.replace("hunter2", "changed")})
    repo.commit()
    changed = gitward("diff", *source, cluster=control_plane, cache=cache)
    assert changed.returncode == 1
    assert "password" in changed.stdout
    for result in (before, synced, changed):
        for secret in (plain, encoded, "changed-very-secret"):
            assert secret not in result.stdout + result.stderr


def test_diff_exit_codes_follow_kubectl(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    repo.write(
        {"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"}
    )
    repo.commit()
    source = ("--repo", str(repo.path), "--path", "app", "-n", namespace, "--name", "codes")

    assert gitward("diff", *source, cluster=control_plane, cache=cache).returncode == 1
    assert gitward("sync", *source, cluster=control_plane, cache=cache).returncode == 0
    assert gitward("diff", *source, cluster=control_plane, cache=cache).returncode == 0
    broken = gitward(
        "diff",
        "--repo",
        str(repo.path),
        "--path",
        "missing",
        "-n",
        namespace,
        cluster=control_plane,
        cache=cache,
    )
    assert broken.returncode == 2
    assert "missing" in broken.stderr


def test_an_argo_cd_application_file_is_synced_as_is(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path, tmp_path: Path
) -> None:
    repo.copy(TESTDATA / "podinfo" / "kustomize", "apps/podinfo")
    repo.commit()
    application = tmp_path / "app.yaml"
    application.write_text(f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: podinfo, namespace: argocd}}
spec:
  project: default
  source: {{repoURL: "{repo.path}", targetRevision: main, path: apps/podinfo}}
  destination: {{server: "https://kubernetes.default.svc", namespace: {namespace}}}
  syncPolicy:
    automated: {{prune: true, selfHeal: true}}
    syncOptions: [ServerSideApply=true]
""")
    data = sync_json("-f", str(application), cluster=control_plane, cache=cache)
    assert data["app"] == "podinfo"
    assert data["revision"]["requested"] == "main"
    assert len(data["revision"]["sha"]) == 40
    assert_in_sync("-f", str(application), cluster=control_plane, cache=cache)

    application.write_text(application.read_text().replace("selfHeal", "selfheal"))
    typo = gitward("sync", "-f", str(application), cluster=control_plane, cache=cache)
    assert typo.returncode == 2
    assert "spec.syncPolicy.automated.selfheal is not a known field" in typo.stderr


def test_render_prints_a_sorted_yaml_stream(
    repo: GitRepo, control_plane: ClusterState, cache: Path
) -> None:
    repo.copy(TESTDATA / "podinfo" / "kustomize", "podinfo")
    repo.commit()
    result = gitward(
        "render", "--repo", str(repo.path), "--path", "podinfo", cluster=control_plane, cache=cache
    )
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    kinds = [d["kind"] for d in docs]
    assert sorted(kinds) == ["Deployment", "HorizontalPodAutoscaler", "Service"]
    assert "rendered 3 objects" in result.stderr


def test_a_kustomize_overlay_over_a_base_syncs_healthy_without_diff(
    repo: GitRepo, control_plane: ClusterState, namespace: str, cache: Path
) -> None:
    repo.copy(Path(__file__).resolve().parents[2] / "examples" / "kustomize-hello", "greeter")
    overlay = repo.path / "greeter" / "overlays" / "demo"
    text = (overlay / "kustomization.yaml").read_text()
    (overlay / "kustomization.yaml").write_text(
        text.replace("namespace: greeter", f"namespace: {namespace}").replace(
            "  - namespace.yaml\n", ""
        )
    )
    (overlay / "namespace.yaml").unlink()
    repo.commit()
    source = (
        "--repo",
        str(repo.path),
        "--path",
        "greeter/overlays/demo",
        "--name",
        f"greeter-{namespace}",
    )

    data = sync_json(*source, cluster=control_plane, cache=cache)

    assert data["result"] == "succeeded"
    assert data["health"] == "Healthy"
    deployment = next(o for o in data["objects"] if o["kind"] == "Deployment")
    assert deployment["namespace"] == namespace
    assert_in_sync(*source, cluster=control_plane, cache=cache)
