"""Jsonnet and multi-source apps synced to the real dev cluster by the engine: healthy, with
an empty diff afterwards; bad input applies nothing."""

from __future__ import annotations

import pytest

from gitward.errors import RenderError
from gitward.kube.client import KubeClient
from gitward.model import (
    AppSpec,
    Destination,
    DirectoryOptions,
    HealthStatus,
    HelmOptions,
    HelmParameter,
    JsonnetOptions,
    JsonnetVariable,
    ResourceKey,
    SourceSpec,
    SyncPolicy,
)
from gitward.reconcile.pipeline import Engine, SyncOptions
from tests.engine.conftest import GitRepo

from .conftest import EXAMPLES


def _spec(name: str, namespace: str, *sources: SourceSpec) -> AppSpec:
    return AppSpec(
        name=f"{name}-{namespace}",
        source=next(s for s in sources if s.renders),
        sources=sources if len(sources) > 1 else (),
        destination=Destination(namespace=namespace),
        sync_policy=SyncPolicy(prune=True),
    )


async def test_jsonnet_guestbook_with_top_level_arguments_is_synced_healthy_and_in_sync(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.copy(EXAMPLES / "argocd-example-apps" / "jsonnet-guestbook-tla", "jsonnet-guestbook-tla")
    repo.commit()
    # No load balancer controller runs in the dev cluster: a ClusterIP Service, by TLA.
    tlas = (JsonnetVariable("type", "ClusterIP"), JsonnetVariable("replicas", "2", code=True))
    directory = DirectoryOptions(jsonnet=JsonnetOptions(tlas=tlas))
    source = SourceSpec(str(repo.path), "jsonnet-guestbook-tla", directory=directory)
    spec = _spec("jsonnet", namespace, source)

    result = await engine.sync(spec, SyncOptions(timeout=120))
    assert not result.failed
    assert {h.status for h in result.health.values()} == {HealthStatus.HEALTHY}
    deploy = await cluster.get(ResourceKey("apps", "Deployment", namespace, "jsonnet-guestbook-ui"))
    assert deploy is not None
    assert deploy["spec"]["replicas"] == 2
    look = await engine.look(spec, SyncOptions())
    assert look.in_sync, look.differing()


async def test_argo_cd_jsonnet_guestbook_as_is_is_synced_and_in_sync(
    repo: GitRepo, engine: Engine, namespace: str
) -> None:
    repo.copy(EXAMPLES / "argocd-example-apps" / "jsonnet-guestbook", "jsonnet-guestbook")
    repo.commit()
    spec = _spec("jsonnet-lb", namespace, SourceSpec(str(repo.path), "jsonnet-guestbook"))
    # Its Service is a LoadBalancer: without a load balancer it stays Progressing, as in
    # Argo CD; the sync itself does not wait for it.
    result = await engine.sync(spec, SyncOptions(wait=False))
    assert not result.failed
    assert sorted(c.key.kind for c in result.changes.changes) == ["Deployment", "Service"]
    look = await engine.look(spec, SyncOptions())
    assert look.in_sync, look.differing()


async def test_multi_source_chart_with_ref_values_and_parameters_is_synced_and_in_sync(
    repo: GitRepo, other_repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.copy(EXAMPLES / "argocd-example-apps" / "helm-guestbook", "helm-guestbook")
    repo.commit()
    other_repo.write({"envs/prod.yaml": "replicaCount: 2\nservice:\n  port: 8080\n"})
    other_repo.commit()
    helm = HelmOptions(
        value_files=("values.yaml", "$config/envs/prod.yaml"),
        parameters=(HelmParameter("image.tag", "0.2"),),
    )
    chart = SourceSpec(str(repo.path), "helm-guestbook", helm=helm)
    config = SourceSpec(str(other_repo.path), ref="config", renders=False)
    spec = _spec("multi", namespace, chart, config)

    result = await engine.sync(spec, SyncOptions(timeout=120))
    assert not result.failed
    assert {h.status for h in result.health.values()} == {HealthStatus.HEALTHY}
    [deploy_key] = [k for k in result.health if k.kind == "Deployment"]
    deploy = await cluster.get(deploy_key)
    assert deploy is not None
    assert deploy["spec"]["replicas"] == 2
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":0.2")
    assert (await engine.look(spec, SyncOptions())).in_sync

    other_repo.write({"envs/prod.yaml": "replicaCount: 3\nservice:\n  port: 8080\n"})
    other_repo.commit("three replicas")
    look = await engine.look(spec, SyncOptions())
    assert look.differing() == [deploy_key]  # a push to the ref source is seen


async def test_a_jsonnet_file_importing_etc_passwd_applies_nothing(
    repo: GitRepo, engine: Engine, cluster: KubeClient, namespace: str
) -> None:
    repo.write(
        {
            "app/ok.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
            "app/bad.jsonnet": "{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'x'},"
            " data: {p: importstr '/etc/passwd'} }",
        }
    )
    repo.commit()
    spec = _spec("passwd", namespace, SourceSpec(str(repo.path), "app"))
    with pytest.raises(RenderError, match="import '/etc/passwd' is an absolute path"):
        await engine.sync(spec, SyncOptions())
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "ok")) is None
    assert await cluster.get(ResourceKey("", "ConfigMap", namespace, "x")) is None
