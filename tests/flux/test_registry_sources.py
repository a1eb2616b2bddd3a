"""Flux's HelmRepository + HelmRelease and OCIRepository + Kustomization against real servers.

A chart repository made by the built ``helm package`` + ``helm repo index`` and served
over HTTP on 127.0.0.1, and the real distribution registry holding plain manifests
pushed with the built ``oras``: the Flux documents, read unchanged by ``gitward serve``,
deploy from both into the dev cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from tests.engine.conftest import cluster
from tests.flux.test_flux_sync import synced
from tests.registries.conftest import Tools, chart_packages, chart_repo, oci, tools
from tests.registries.servers import Registry, StaticServer, run
from tests.serve.conftest import Serve, serve

__all__ = ["chart_packages", "chart_repo", "cluster", "oci", "serve", "tools"]

pytestmark = pytest.mark.cluster


def helm_documents(url: str, namespace: str) -> str:
    return f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {{name: charts, namespace: {namespace}}}
spec: {{interval: 5m, url: "{url}"}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: hello-{namespace}, namespace: {namespace}}}
spec:
  interval: 10m
  releaseName: greet
  chart:
    spec:
      chart: hello
      version: ">=1.0.0 <2.0.0"
      sourceRef: {{kind: HelmRepository, name: charts}}
  values: {{greeting: from-flux}}
"""


async def test_helm_release_from_a_helm_repository(
    serve: Serve, chart_repo: StaticServer, cluster: KubeClient, namespace: str
) -> None:
    running = await serve({"flux.yaml": helm_documents(chart_repo.url, namespace)})
    await running.wait_app(f"hello-{namespace}", synced, timeout=120)
    live = await cluster.get(ResourceKey("", "ConfigMap", namespace, "greet-hello"))
    assert live is not None
    assert live["data"] == {"version": "1.2.0", "greeting": "from-flux"}  # newest in range


def oci_documents(host: str, namespace: str) -> str:
    return f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {{name: manifests, namespace: {namespace}}}
spec:
  interval: 10m
  url: oci://{host}/manifests/web
  insecure: true
  ref: {{semver: "1.x"}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: web-{namespace}, namespace: {namespace}}}
spec:
  interval: 10m
  sourceRef: {{kind: OCIRepository, name: manifests}}
  path: ./deploy
  prune: true
  targetNamespace: {namespace}
  postBuild:
    substitute: {{message: from-oci}}
"""


async def test_kustomization_from_an_oci_repository(  # noqa: PLR0917
    serve: Serve, tools: Tools, oci: Registry, cluster: KubeClient, namespace: str, tmp_path: Path
) -> None:
    work = tmp_path / "artifact"
    (work / "deploy").mkdir(parents=True)
    for tag in ("1.0.0", "1.1.0", "2.0.0"):
        (work / "deploy" / "cm.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"
            f"data: {{message: '${{message}}', tag: '{tag}'}}\n"
        )
        reference = f"{oci.host}/manifests/web:{tag}"
        run([tools.oras, "push", "--plain-http", reference, "deploy"], tmp_path / "home", cwd=work)
    running = await serve({"flux.yaml": oci_documents(oci.host, namespace)})
    await running.wait_app(f"web-{namespace}", synced, timeout=120)
    live = await cluster.get(ResourceKey("", "ConfigMap", namespace, "web"))
    assert live is not None
    assert live["data"] == {"message": "from-oci", "tag": "1.1.0"}  # newest 1.x, substituted
