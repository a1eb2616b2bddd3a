"""The Kubernetes adapter against the real control plane: discovery, apply, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gitward.devcluster import ClusterState
from gitward.errors import (
    ConfigError,
    ConflictError,
    ImmutableFieldError,
    UnknownKindError,
    UnreachableError,
)
from gitward.kube.client import KubeClient
from gitward.kube.errors import parse_conflict
from gitward.model import ResourceKey

pytestmark = pytest.mark.cluster


@pytest.fixture
async def client(control_plane: ClusterState) -> AsyncIterator[KubeClient]:
    async with KubeClient.from_kubeconfig(control_plane.kubeconfig) as kube:
        yield kube


def configmap(namespace: str, name: str = "cm", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


async def test_discovery_knows_core_group_and_scope(client: KubeClient) -> None:
    deployment = await client.resource_for("apps", "Deployment")
    assert (deployment.plural, deployment.version, deployment.namespaced) == (
        "deployments",
        "v1",
        True,
    )
    namespace = await client.resource_for("", "Namespace")
    assert not namespace.namespaced
    assert namespace.collection_path() == "/api/v1/namespaces"
    assert "apps/v1" in await client.api_versions()


async def test_unknown_kind_says_what_to_do(client: KubeClient) -> None:
    with pytest.raises(UnknownKindError) as error:
        await client.resource_for("example.com", "Gizmo")
    assert "Gizmo" in str(error.value)
    assert error.value.hint is not None
    assert "CRD" in error.value.hint


async def test_dry_run_predicts_without_writing(client: KubeClient, namespace: str) -> None:
    predicted = await client.apply(
        configmap(namespace, color="blue"), field_manager="gitward", dry_run=True
    )
    assert predicted["data"] == {"color": "blue"}
    assert predicted["metadata"]["managedFields"][0]["manager"] == "gitward"
    assert await client.get(ResourceKey("", "ConfigMap", namespace, "cm")) is None
    assert client.requests["APPLY dry-run"] == 1
    assert client.requests["APPLY"] == 0


async def test_apply_get_list_delete(client: KubeClient, namespace: str) -> None:
    body = configmap(namespace, color="blue")
    body["metadata"]["labels"] = {"gitward.dev/app": "demo"}
    stored = await client.apply(body, field_manager="gitward")
    assert stored["metadata"]["uid"]

    key = ResourceKey("", "ConfigMap", namespace, "cm")
    assert (await client.get(key) or {})["data"] == {"color": "blue"}
    listed = await client.list("", "ConfigMap", namespace=namespace, labels="gitward.dev/app=demo")
    assert [(o["kind"], o["metadata"]["name"]) for o in listed] == [("ConfigMap", "cm")]

    assert await client.delete(key) is True
    assert await client.delete(key) is False


async def test_conflict_names_the_other_manager_and_field(
    client: KubeClient, namespace: str
) -> None:
    await client.apply(configmap(namespace, color="blue"), field_manager="kubectl-edit")
    with pytest.raises(ConflictError) as error:
        await client.apply(configmap(namespace, color="green"), field_manager="gitward")
    assert error.value.managers == ("kubectl-edit",)
    assert error.value.fields == (".data.color",)
    assert f"ConfigMap {namespace}/cm" in str(error.value)
    forced = await client.apply(
        configmap(namespace, color="green"), field_manager="gitward", force=True
    )
    assert forced["data"] == {"color": "green"}


def test_conflict_messages_with_several_fields_are_parsed() -> None:
    message = (
        'Apply failed with 2 conflicts: conflicts with "helm" using v1:\n'
        '- .data.a\n- .spec.template.spec.containers[name="web"].image'
    )
    managers, fields = parse_conflict(message)
    assert managers == ("helm",)
    assert fields == (".data.a", '.spec.template.spec.containers[name="web"].image')


async def test_immutable_field_change_is_reported(client: KubeClient, namespace: str) -> None:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox:1"}],
                }
            }
        },
    }
    await client.apply(job, field_manager="gitward")
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:2"
    with pytest.raises(ImmutableFieldError) as error:
        await client.apply(job, field_manager="gitward")
    assert "Replace" in (error.value.hint or "")


async def test_an_unreachable_cluster_is_a_transient_error(
    tmp_path: Path, control_plane: ClusterState
) -> None:
    config = json.loads(Path(control_plane.kubeconfig).read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps(config))
    async with KubeClient.from_kubeconfig(kubeconfig, timeout=5) as kube:
        with pytest.raises(UnreachableError) as error:
            await kube.server_version()
    assert error.value.transient


def test_a_missing_kubeconfig_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot use kubeconfig"):
        KubeClient.from_kubeconfig(tmp_path / "nope")


def _exec_kubeconfig(path: Path, marker: Path) -> None:
    """A kubeconfig whose user runs a command (as EKS's do): here, one that leaves a mark."""
    path.parent.mkdir(parents=True, exist_ok=True)
    user_exec = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "/bin/sh",
        "args": ["-c", f"touch {marker}; echo '{{}}'"],
        "interactiveMode": "Never",
    }
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"exec": user_exec}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )


async def test_a_kubeconfig_from_a_repository_checkout_is_refused(tmp_path: Path) -> None:
    # Flux CVE-2022-24817: a Cluster declared in Git pointing at a kubeconfig committed
    # to a repository (gitward's checkouts have predictable paths) would run its command.
    cache = tmp_path / "cache"
    committed = cache / "git" / "trees" / ("a" * 40) / "kubeconfig"
    marker = tmp_path / "ran"
    _exec_kubeconfig(committed, marker)
    via_symlink = tmp_path / "innocent-looking"
    via_symlink.symlink_to(committed)
    for path in (committed, via_symlink):
        with pytest.raises(ConfigError, match="files from repositories"):
            KubeClient.from_kubeconfig(path, untrusted_dirs=(cache,))
    assert not marker.exists()


async def test_a_kubeconfig_outside_the_untrusted_directories_is_used(tmp_path: Path) -> None:
    path = tmp_path / "operator" / "kubeconfig"
    _exec_kubeconfig(path, tmp_path / "ran")
    async with KubeClient.from_kubeconfig(path, untrusted_dirs=(tmp_path / "cache",)) as client:
        assert client.name == "x"
