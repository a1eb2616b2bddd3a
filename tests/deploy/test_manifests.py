"""gitward's install manifests: one source (the chart), safe defaults, multi-tenant RBAC."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitward import compose
from gitward.install.manifests import CHART, InstallOptions, render

ROOT = Path(__file__).resolve().parents[2]


def _objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


@pytest.fixture(scope="module")
def helm() -> Path:
    return compose.tool("helm")


def test_the_kustomize_base_is_the_chart_rendered_with_its_defaults(helm: Path) -> None:
    base = (ROOT / "deploy/kustomize/gitward.yaml").read_text()
    assert _objects(base) == _objects(render(helm, InstallOptions())), (
        "deploy/kustomize/ is out of date: run scripts/gen-deploy"
    )
    assert (ROOT / "deploy/chart/gitward").resolve() == CHART.resolve()


def test_every_object_is_labelled_and_the_pod_runs_locked_down(helm: Path) -> None:
    objects = _objects(render(helm, InstallOptions(config_repo="https://git.test/c.git")))
    kinds = {o["kind"] for o in objects}
    assert {
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap",
        "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy",
    } <= kinds  # fmt: skip
    assert "Secret" not in kinds, "secrets never come from the rendered manifests by default"
    for obj in objects:
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "gitward", obj["kind"]
    (deployment,) = _by_kind(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    (config,) = _by_kind(objects, "ConfigMap")
    assert config["data"]["repo"] == "https://git.test/c.git"


def test_write_namespaces_bind_writes_there_only(helm: Path) -> None:
    options = InstallOptions(namespace="gw", write_namespaces=("team-a", "team-b"))
    objects = _objects(render(helm, options))
    cluster_bindings = {o["roleRef"]["name"] for o in _by_kind(objects, "ClusterRoleBinding")}
    assert cluster_bindings == {"gw:gitward-read"}, "no cluster-wide write binding"
    bindings = {
        (o["metadata"]["namespace"], o["roleRef"]["name"]) for o in _by_kind(objects, "RoleBinding")
    }
    assert bindings == {(ns, "gw:gitward-write") for ns in ("team-a", "team-b", "gw")}


def test_without_write_namespaces_gitward_writes_everywhere(helm: Path) -> None:
    objects = _objects(render(helm, InstallOptions()))
    names = {o["roleRef"]["name"] for o in _by_kind(objects, "ClusterRoleBinding")}
    assert names == {"gitward-system:gitward-read", "gitward-system:gitward-write"}
    assert not _by_kind(objects, "RoleBinding")


def test_values_with_separators_are_taken_literally(helm: Path) -> None:
    repo = "https://git.test/a,b=c{d}.git"
    objects = _objects(render(helm, InstallOptions(config_repo=repo, image="reg.test:5000/gw")))
    (config,) = _by_kind(objects, "ConfigMap")
    assert config["data"]["repo"] == repo
    (deployment,) = _by_kind(objects, "Deployment")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.startswith("reg.test:5000/gw:")


def test_the_documented_overlay_sets_the_config_repository(tmp_path: Path) -> None:
    """The overlay shown in deploy/kustomize/kustomization.yaml works as written."""
    shutil.copytree(ROOT / "deploy/kustomize", tmp_path / "base")  # a vendored copy
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": ["../base"],
                "configMapGenerator": [
                    {
                        "name": "gitward-config",
                        "namespace": "gitward-system",
                        "behavior": "merge",
                        "literals": ["repo=https://git.test/c.git", "path=clusters/prod/apps"],
                    }
                ],
                "generatorOptions": {"disableNameSuffixHash": True},
            }
        )
    )
    out = subprocess.run(
        [str(compose.tool("kustomize")), "build", str(overlay)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    (config,) = _by_kind(_objects(out), "ConfigMap")
    assert config["data"]["repo"] == "https://git.test/c.git"
    assert config["data"]["path"] == "clusters/prod/apps"


def test_ha_runs_replicas_on_a_database_url_from_a_secret(helm: Path) -> None:
    chart = InstallOptions()
    args = [
        *chart.helm_sets(),
        "--set",
        "ha.enabled=true",
        "--set-string",
        "ha.database.secretName=pg",
    ]
    text = subprocess.run(
        [str(helm), "template", "gitward", str(CHART), "--namespace", "gitward-system", *args],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    (deployment,) = _by_kind(_objects(text), "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert "--ha" in container["args"]
    assert not any("postgresql" in a for a in container["args"]), "the URL stays off argv"
    env = {e["name"]: e for e in container["env"]}
    assert env["GITWARD_DB"]["valueFrom"]["secretKeyRef"] == {"name": "pg", "key": "url"}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_ha_without_a_database_secret_is_refused_by_the_chart(helm: Path) -> None:
    done = subprocess.run(
        [str(helm), "template", "gitward", str(CHART), "--set", "ha.enabled=true"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ha.database.secretName is required" in done.stderr
