"""A Flux HelmRelease whose chart is a folder of a GitRepository, synced by ``gitward serve``.

The chart is podinfo's (shared test data) in a real repository served over smart HTTP;
values come inline, from a ConfigMap's ``values.yaml`` and, for one value, from a Secret
at a ``targetPath``: the live Deployment shows all three, inline values winning.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.engine.conftest import TESTDATA, GitRepo, cluster, repo
from tests.flux.test_flux_sync import synced
from tests.serve.conftest import Serve, serve
from tests.support.git_server import FaultyGitServer

__all__ = ["cluster", "repo", "serve"]  # shared fixtures

pytestmark = pytest.mark.cluster

COLOR = "#c0ffee"


def documents(url: str, namespace: str) -> str:
    return f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: charts, namespace: {namespace}}}
spec:
  interval: 5m
  url: {url}
  ref: {{branch: main}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: web-{namespace}, namespace: {namespace}}}
spec:
  interval: 10m
  releaseName: web
  chart:
    spec:
      chart: ./charts/podinfo
      sourceRef: {{kind: GitRepository, name: charts}}
  install:
    remediation: {{retries: 3}}
  values:
    replicaCount: 2
    ui: {{message: from-inline}}
  valuesFrom:
    - kind: ConfigMap
      name: web-values
    - kind: Secret
      name: web-secret
      valuesKey: color
      targetPath: ui.color
"""


def env(deployment: dict[str, object]) -> dict[str, str]:
    containers = deployment["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    return {e["name"]: e.get("value", "") for e in containers[0]["env"]}


async def test_helm_release_from_git_with_values_from(  # noqa: PLR0917
    serve: Serve,
    repo: GitRepo,
    cluster: KubeClient,
    kube: Client,
    namespace: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    repo.copy(TESTDATA / "podinfo" / "charts" / "podinfo", "charts/podinfo")
    repo.commit()
    bare = tmp_path / "served" / "charts.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))
    server = FaultyGitServer(bare.parent)
    request.addfinalizer(server.stop)
    values = "ui:\n  message: from-configmap\n  logo: https://example.com/logo.png\n"
    kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="web-values", namespace=namespace),
            data={"values.yaml": values},
        )
    )
    encoded = base64.b64encode(COLOR.encode()).decode()
    kube.create(
        Secret(metadata=ObjectMeta(name="web-secret", namespace=namespace), data={"color": encoded})
    )

    running = await serve({"flux.yaml": documents(server.url(bare), namespace)})
    await running.wait_app(f"web-{namespace}", synced, timeout=180)

    deployment = await cluster.get(ResourceKey("apps", "Deployment", namespace, "web-podinfo"))
    assert deployment is not None  # release "web" in the HelmRelease's namespace
    assert deployment["spec"]["replicas"] == 2
    variables = env(deployment)
    assert variables["PODINFO_UI_MESSAGE"] == "from-inline"  # inline values win
    assert variables["PODINFO_UI_LOGO"] == "https://example.com/logo.png"  # the ConfigMap's
    assert variables["PODINFO_UI_COLOR"] == COLOR  # from the Secret, at its targetPath
