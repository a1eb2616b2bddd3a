"""A control plane of this package's own, with Flux's real CRDs and Argo CD's kinds.

``gitward import`` reads Flux and Argo CD objects from a live cluster, so the cluster
must serve their kinds. Flux's CRDs are the real ones, from the source-controller and
kustomize-controller Go modules (``go mod download``, as the toolchain fetches the
modules it builds): objects are checked against Flux's own schemas. Argo CD's CRDs are
not in a Go module this project fetches; minimal ones that keep every field stand in.
The plane is separate (etcd + kube-apiserver) so that no other test sees these CRDs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from lightkube import Client, KubeConfig
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from gitward.devcluster import ClusterState, ControlPlane
from gitward.toolchain.go import find_go
from tests.support.waiting import eventually_sync

FLUX_MODULES = (
    ("github.com/fluxcd/source-controller@v1.9.6", ("gitrepositories",)),
    ("github.com/fluxcd/kustomize-controller@v1.9.6", ("kustomizations",)),
)


def module_dir(module: str) -> Path:
    go = find_go().binary
    out = subprocess.run(
        [go, "mod", "download", "-json", module], capture_output=True, text=True, check=True
    )
    return Path(json.loads(out.stdout)["Dir"])


def flux_crds() -> list[dict[str, Any]]:
    crds = []
    for module, plurals in FLUX_MODULES:
        bases = module_dir(module) / "config" / "crd" / "bases"
        for path in sorted(bases.glob("*.yaml")):
            if any(path.name.endswith(f"_{plural}.yaml") for plural in plurals):
                crds.append(yaml.safe_load(path.read_text()))
    assert len(crds) == 2, "Flux's CRDs were not found in the Go modules"
    return crds


def argocd_crd(kind: str, plural: str) -> dict[str, Any]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


@pytest.fixture(scope="package")
def import_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterState]:
    plane = ControlPlane(tmp_path_factory.mktemp("import-plane"), ready_timeout=180.0)
    try:
        state = plane.up("light")
        client = Client(config=KubeConfig.from_file(state.kubeconfig), field_manager="tests")
        crds = [
            *flux_crds(),
            argocd_crd("Application", "applications"),
            argocd_crd("AppProject", "appprojects"),
        ]
        for crd in crds:
            client.create(cast(CustomResourceDefinition, CustomResourceDefinition.from_dict(crd)))
        for crd in crds:
            name = str(crd["metadata"]["name"])
            eventually_sync(
                partial(client.get, CustomResourceDefinition, name),
                _established,
                what=f"CRD {name} to be established",
            )
        client.close()
        yield state
    finally:
        plane.down()


def _established(crd: CustomResourceDefinition) -> bool:
    conditions = (crd.status.conditions if crd.status else None) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)
