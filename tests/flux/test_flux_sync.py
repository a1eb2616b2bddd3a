"""Flux's podinfo example, read unchanged by ``gitward serve`` and synced to the real cluster.

A GitRepository with a ``file://`` URL points at a real repository holding podinfo's
Kustomize manifests (from the shared test data) and a folder of settings written with
``${var}`` expressions. Two Kustomizations: ``podinfo`` into the test's namespace
(``targetNamespace``), and ``settings``, which depends on it and substitutes variables
inline, from a ConfigMap and from a Secret read from the cluster.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from gitward.kube.client import KubeClient
from gitward.model import ResourceKey
from gitward.model.history import SyncRecord
from tests.engine.conftest import TESTDATA, GitRepo, cluster, repo
from tests.serve.conftest import Serve, serve

__all__ = ["cluster", "repo", "serve"]  # shared fixtures

pytestmark = pytest.mark.cluster

SECRET_TOKEN = "tok-Vb7Qx2Lm9"
SETTINGS = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: somewhere-else
data:
  env: ${cluster_env}
  region: ${cluster_region:=eu-west-1}
  size: ${size}
  token: ${token}
  literal: $${not_a_variable}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  run.sh: echo ${HOME}
"""


def flux_documents(repo: Path, namespace: str) -> str:
    return f"""\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: podinfo
  namespace: {namespace}
spec:
  interval: 1m0s
  url: file://{repo}
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: podinfo-{namespace}
  namespace: {namespace}
spec:
  interval: 30m0s
  path: ./kustomize
  prune: true
  wait: true
  timeout: 3m0s
  sourceRef:
    kind: GitRepository
    name: podinfo
  targetNamespace: {namespace}
  images:
    - name: ghcr.io/stefanprodan/podinfo
      newTag: 6.13.0
  patches:
    - patch: |
        - op: replace
          path: /spec/minReplicas
          value: 3
      target: {{kind: HorizontalPodAutoscaler, name: podinfo}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: settings-{namespace}
  namespace: {namespace}
spec:
  interval: 30m0s
  path: ./settings
  prune: true
  dependsOn:
    - name: podinfo-{namespace}
  sourceRef:
    kind: GitRepository
    name: podinfo
  targetNamespace: {namespace}
  postBuild:
    substitute:
      cluster_env: prod
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
      - kind: Secret
        name: cluster-secrets
      - kind: Secret
        name: not-there
        optional: true
"""


def synced(app: dict[str, object]) -> bool:
    health = app["health"]
    healthy = isinstance(health, dict) and health["status"] == "Healthy"
    return app["syncState"] == "Synced" and healthy


async def test_podinfo_example_syncs_with_target_namespace_substitution_and_order(  # noqa: PLR0917
    serve: Serve,
    repo: GitRepo,
    cluster: KubeClient,
    kube: Client,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    repo.copy(TESTDATA / "podinfo" / "kustomize", "kustomize")
    repo.write({"settings/config.yaml": SETTINGS})
    repo.commit()
    kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="cluster-vars", namespace=namespace),
            data={"cluster_env": "overridden-by-inline", "size": "large"},
        )
    )
    token = base64.b64encode(SECRET_TOKEN.encode()).decode()
    secret = ObjectMeta(name="cluster-secrets", namespace=namespace)
    kube.create(Secret(metadata=secret, data={"token": token}))

    running = await serve({"flux.yaml": flux_documents(repo.path, namespace)})
    await running.wait_app(f"podinfo-{namespace}", synced, timeout=120)
    await running.wait_app(f"settings-{namespace}", synced, timeout=120)

    deployment = await cluster.get(ResourceKey("apps", "Deployment", namespace, "podinfo"))
    assert deployment is not None  # podinfo's objects name no namespace: targetNamespace
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/stefanprodan/podinfo:6.13.0"  # spec.images
    hpa = await cluster.get(
        ResourceKey("autoscaling", "HorizontalPodAutoscaler", namespace, "podinfo")
    )
    assert hpa is not None
    assert hpa["spec"]["minReplicas"] == 3  # spec.patches
    settings = await cluster.get(ResourceKey("", "ConfigMap", namespace, "settings"))
    assert settings is not None  # moved from somewhere-else into targetNamespace
    assert settings["data"] == {
        "env": "prod",  # inline substitute wins over the ConfigMap
        "region": "eu-west-1",  # the default
        "size": "large",  # from the ConfigMap
        "token": SECRET_TOKEN,  # from the Secret
        "literal": "${not_a_variable}",  # $$ escapes
    }
    script = await cluster.get(ResourceKey("", "ConfigMap", namespace, "script"))
    assert script is not None
    assert script["data"]["run.sh"] == "echo ${HOME}"  # substitution disabled for it

    # dependsOn: settings was first synced only after podinfo's first sync finished.
    store = running.service.store
    [podinfo_sync, *_] = sorted(await store.list_syncs(f"podinfo-{namespace}"), key=_start)
    [settings_sync, *_] = sorted(await store.list_syncs(f"settings-{namespace}"), key=_start)
    assert podinfo_sync.finished_at is not None
    assert settings_sync.started_at >= podinfo_sync.finished_at

    # The Secret's value is in no history record and no log line.
    history = [repr(r) for r in await store.list_syncs(f"settings-{namespace}")]
    assert not any(SECRET_TOKEN in h for h in history)
    out, err = capfd.readouterr()
    assert SECRET_TOKEN not in caplog.text + out + err


def _start(record: SyncRecord) -> datetime:
    return record.started_at
