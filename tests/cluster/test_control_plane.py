"""The local control plane is a real Kubernetes: these prove it, against the built binaries.

Each test exercises behaviour only real components have: server-side apply conflicts
(the apiserver's field manager), Deployments rolling out (controller-manager, scheduler
and kwok together), namespace finalization (the namespace controller), CRDs becoming
Established (the apiextensions controller) and serving their custom resources.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client, codecs
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Node, Pod
from tests.support.waiting import eventually_sync

from gitward.devcluster import ClusterState
from gitward.devcluster.probe import Endpoint
from gitward.toolchain import KUBERNETES_VERSION

pytestmark = pytest.mark.cluster


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120.0) -> None:
    eventually_sync(check, what=what, timeout=timeout)


def configmap(namespace: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shared", "namespace": namespace},
        "data": {"color": value},
    }


def test_server_side_apply_conflict_names_the_other_manager(kube: Client, namespace: str) -> None:
    kube.apply(codecs.from_dict(configmap(namespace, "blue")), field_manager="alice")

    with pytest.raises(ApiError) as conflict:
        kube.apply(codecs.from_dict(configmap(namespace, "green")), field_manager="bob")

    assert conflict.value.status.code == 409
    assert 'conflict with "alice"' in (conflict.value.status.message or "")
    assert ".data.color" in (conflict.value.status.message or "")
    # With force, bob takes the field over.
    kube.apply(codecs.from_dict(configmap(namespace, "green")), field_manager="bob", force=True)
    assert kube.get(ConfigMap, "shared", namespace=namespace).data == {"color": "green"}


def test_deployment_becomes_available_with_pods_on_the_kwok_node(
    kube: Client, namespace: str
) -> None:
    deployment = codecs.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    kube.apply(deployment)

    def available() -> bool:
        status = kube.get(Deployment, "web", namespace=namespace).status
        return status is not None and status.availableReplicas == 2

    wait_until("the Deployment to have 2 available replicas", available)
    pods = list(kube.list(Pod, namespace=namespace, labels={"app": "web"}))
    assert len(pods) == 2
    for pod in pods:
        assert pod.spec is not None
        assert pod.spec.nodeName == "kwok-node-0"
        assert pod.status is not None
        assert pod.status.conditions is not None
        ready = [c.status for c in pod.status.conditions if c.type == "Ready"]
        assert ready == ["True"]


def test_the_fake_node_is_ready(kube: Client) -> None:
    nodes = list(kube.list(Node))
    assert [n.metadata.name for n in nodes if n.metadata] == ["kwok-node-0"]
    conditions = nodes[0].status.conditions if nodes[0].status else None
    assert conditions is not None
    assert [c.status for c in conditions if c.type == "Ready"] == ["True"]


def test_namespace_deletion_finishes(kube: Client) -> None:
    kube.create(Namespace(metadata=ObjectMeta(name="doomed")))
    kube.apply(codecs.from_dict(configmap("doomed", "red")))

    kube.delete(Namespace, "doomed")

    def gone() -> bool:
        try:
            kube.get(Namespace, "doomed")
        except ApiError as e:
            return e.status.code == 404
        return False

    wait_until("namespace 'doomed' to be finalized and removed", gone)


def test_crd_becomes_established_and_serves_custom_resources(kube: Client, namespace: str) -> None:
    crd = codecs.from_dict(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.smoke.gitward.dev"},
            "spec": {
                "group": "smoke.gitward.dev",
                "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                "scope": "Namespaced",
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {
                            "openAPIV3Schema": {
                                "type": "object",
                                "properties": {
                                    "spec": {
                                        "type": "object",
                                        "properties": {"size": {"type": "integer"}},
                                    }
                                },
                            }
                        },
                    }
                ],
            },
        }
    )
    kube.apply(crd)

    def established() -> bool:
        status = kube.get(CustomResourceDefinition, "widgets.smoke.gitward.dev").status
        return bool(
            status
            and status.conditions
            and any(c.type == "Established" and c.status == "True" for c in status.conditions)
        )

    wait_until("the CRD to be Established", established)
    widget_type = create_namespaced_resource("smoke.gitward.dev", "v1", "Widget", "widgets")
    kube.apply(
        widget_type.from_dict(
            {
                "apiVersion": "smoke.gitward.dev/v1",
                "kind": "Widget",
                "metadata": {"name": "w1", "namespace": namespace},
                "spec": {"size": 3},
            }
        )
    )
    assert kube.get(widget_type, "w1", namespace=namespace)["spec"] == {"size": 3}


def test_apiserver_reports_the_pinned_version(control_plane: ClusterState) -> None:
    api = Endpoint(
        control_plane.server, ca_file=control_plane.ca_file, token=control_plane.admin_token()
    )
    assert api.get("/version")["gitVersion"] == KUBERNETES_VERSION


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("kubectl", ["version", "--client", "-o", "json"], KUBERNETES_VERSION),
        ("kustomize", ["version"], "v5.8.1"),
        ("helm", ["version", "--short"], "v3.21.4"),
        ("sops", ["--version", "--disable-version-check"], "3.13.2"),
        ("kube-apiserver", ["--version"], KUBERNETES_VERSION),
        ("etcd", ["--version"], "3.6.8"),
        ("kwok", ["--version"], "v0.7.0"),
    ],
)
def test_the_built_tools_run_and_report_their_pinned_versions(
    control_plane: ClusterState, tool: str, args: list[str], expected: str
) -> None:
    binary = Path(control_plane.bin_dir) / tool
    result = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout + result.stderr
