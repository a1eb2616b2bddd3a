"""`gitward import flux|argocd` against a live API server serving Flux's and Argo CD's kinds.

Round trip: Flux objects written in the cluster are imported as gitward Applications
that declare the same apps as the Flux documents themselves; the imported Application is
then synced to the cluster and its post-build substitution shows in the live object.
What gitward cannot translate is reported by name and field, with exit code 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward.devcluster import ClusterState
from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.spec.declarations import parse_declarations, read_documents
from tests.engine.conftest import GitRepo, repo
from tests.support.git_server import FaultyGitServer

__all__ = ["repo"]  # a shared fixture

pytestmark = pytest.mark.cluster

NAMESPACE = "flux-system"


def flux_objects(url: str) -> list[dict[str, Any]]:
    return list(
        yaml.safe_load_all(f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: apps}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: settings, namespace: {NAMESPACE}}}
spec:
  interval: 5m
  url: {url}
  ref: {{branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: settings, namespace: {NAMESPACE}}}
spec:
  interval: 10m
  path: ./settings
  prune: true
  targetNamespace: apps
  sourceRef: {{kind: GitRepository, name: settings}}
  postBuild:
    substitute: {{cluster_env: staging}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: impersonating, namespace: {NAMESPACE}}}
spec:
  interval: 10m
  path: ./settings
  prune: true
  serviceAccountName: deployer
  sourceRef: {{kind: GitRepository, name: settings}}
""")
    )


CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: env, namespace: x}
data: {env: "${cluster_env}"}
"""
ARGOCD = """
apiVersion: v1
kind: Namespace
metadata: {name: argocd}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {name: team, namespace: argocd}
spec:
  sourceRepos: ['*']
  destinations: [{namespace: '*', server: '*'}]
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: team
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: HEAD
    path: guestbook
  destination: {server: 'https://kubernetes.default.svc', namespace: guestbook}
  syncPolicy: {automated: {prune: true, selfHeal: true}, syncOptions: [CreateNamespace=true]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: plugged, namespace: argocd}
spec:
  project: team
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    path: plugins
    plugin: {name: cdk8s}
  destination: {server: 'https://kubernetes.default.svc', namespace: plugged}
"""


async def create(state: ClusterState, documents: list[dict[str, Any]]) -> None:
    async with KubeClient.from_kubeconfig(state.kubeconfig) as client:
        for doc in documents:
            await client.apply(doc, field_manager="tests")


def gitward(state: ClusterState, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gitward", *args, "--kubeconfig", state.kubeconfig]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def declared(folder: Path) -> dict[str, Any]:
    files = sorted(folder.glob("*.yaml"))
    return parse_declarations([(str(p), d) for p in files for d in read_documents(p)]).apps


async def test_flux_objects_import_as_applications_that_sync_the_same(
    import_plane: ClusterState, repo: GitRepo, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    repo.write({"settings/config.yaml": CONFIG})
    repo.commit()
    bare = tmp_path / "served" / "settings.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    server = FaultyGitServer(bare.parent)  # smart HTTP: Flux's CRD allows no file:// URL
    request.addfinalizer(server.stop)
    objects = flux_objects(server.url(bare))
    await create(import_plane, objects)

    out = tmp_path / "imported"
    result = gitward(import_plane, "import", "flux", "--output-dir", str(out))

    assert result.returncode == 1, result.stderr  # one Kustomization could not be imported
    assert "flux-system/impersonating: Kustomization spec.serviceAccountName is not supported" in (
        " ".join(result.stderr.split())
    )
    assert sorted(p.name for p in out.iterdir()) == ["settings.yaml"]
    flux_docs = [(f"doc{i}", d) for i, d in enumerate(objects[2:4])]
    assert declared(out) == parse_declarations(flux_docs).apps  # the same app

    synced = gitward(import_plane, "sync", "--file", str(out / "settings.yaml"), "--no-wait")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    async with KubeClient.from_kubeconfig(import_plane.kubeconfig) as client:
        live = await client.get(ResourceKey("", "ConfigMap", "apps", "env"))
    assert live is not None  # in targetNamespace, not in x
    assert live["data"] == {"env": "staging"}


async def test_argocd_applications_and_projects_import_as_declarations(
    import_plane: ClusterState,
) -> None:
    objects = list(yaml.safe_load_all(ARGOCD))
    await create(import_plane, objects)

    result = gitward(import_plane, "import", "argocd", "-n", "argocd", "-o", "yaml")

    assert result.returncode == 1
    assert "spec.source.plugin is not supported by gitward yet" in result.stderr
    written = {d["metadata"]["name"]: d for d in yaml.safe_load_all(result.stdout)}
    assert sorted(written) == ["guestbook", "team"]
    assert all(d["apiVersion"] == "gitward.dev/v1alpha1" for d in written.values())
    apps = parse_declarations([("out", d) for d in written.values()]).apps
    original = objects[2]["spec"]
    guestbook = apps["guestbook"]
    assert guestbook.project == "team"
    assert guestbook.source.repo_url == original["source"]["repoURL"]
    assert guestbook.sync_policy.enabled("CreateNamespace")
