"""The Helm renderer with the real helm: podinfo, values, capabilities, hooks, safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import PathEscapeError, RenderError
from gitward.model import HelmOptions, SourceSpec
from gitward.render import ManifestRenderer, RenderTools

from .helpers import KUBE_VERSION, REPO_URL, Write, copy_testdata, render

CHART = "charts/podinfo"


@pytest.fixture
def podinfo(repo: Path) -> Path:
    return copy_testdata("podinfo/charts/podinfo", repo / CHART)


def helm(
    path: str = CHART,
    *,
    values: str | None = None,
    value_files: tuple[str, ...] = (),
    release_name: str | None = None,
    skip_crds: bool = False,
) -> SourceSpec:
    options = HelmOptions(
        release_name=release_name, values=values, value_files=value_files, skip_crds=skip_crds
    )
    return SourceSpec(REPO_URL, path=path, helm=options)


@pytest.mark.usefixtures("podinfo")
def test_podinfo_with_prod_values_and_inline_values(renderer: ManifestRenderer, repo: Path) -> None:
    source = helm(
        value_files=("values-prod.yaml",), values="replicaCount: 3\nhpa: {enabled: false}"
    )
    found = render(renderer, repo, source, namespace="web", kube_version=KUBE_VERSION)
    keys = [str(r.key) for r in found]
    assert keys == [
        "ConfigMap demo-podinfo-redis",  # podinfo's redis templates set no namespace
        "Service demo-podinfo-redis",
        "Service web/demo-podinfo",
        "Deployment.apps demo-podinfo-redis",
        "Deployment.apps web/demo-podinfo",
    ]  # redis from values-prod.yaml; no HPA, as the inline values (applied last) say
    deployment = found[4]
    assert deployment.body["spec"]["replicas"] == 3
    assert str(deployment.source) == "charts/podinfo/templates/deployment.yaml"


@pytest.mark.usefixtures("podinfo")
def test_release_name_defaults_to_app_and_can_be_set(
    renderer: ManifestRenderer, repo: Path
) -> None:
    default = render(renderer, repo, helm(), kube_version=KUBE_VERSION)
    named = render(renderer, repo, helm(release_name="web"), kube_version=KUBE_VERSION)
    assert "Deployment.apps default/demo-podinfo" in [str(r.key) for r in default]
    assert "Deployment.apps default/web-podinfo" in [str(r.key) for r in named]


@pytest.mark.usefixtures("podinfo")
def test_kube_version_is_honoured(renderer: ManifestRenderer, repo: Path) -> None:
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, helm(), kube_version="1.22.0")
    assert "incompatible with Kubernetes v1.22.0" in str(caught.value)
    assert caught.value.location == CHART


@pytest.mark.usefixtures("podinfo")
def test_default_kube_version_when_the_request_names_none(tools: RenderTools, repo: Path) -> None:
    renderer = ManifestRenderer(tools, cache_size=0, default_kube_version=KUBE_VERSION)
    found = render(renderer, repo, helm())  # podinfo needs kubeVersion >= 1.23
    assert "Deployment.apps default/demo-podinfo" in [str(r.key) for r in found]


def test_capabilities_kube_and_api_versions(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("chart/Chart.yaml", "apiVersion: v2\nname: caps\nversion: 0.1.0\n")
    write(
        "chart/templates/cm.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: caps
        data:
          kube: {{ .Capabilities.KubeVersion.Version | quote }}
          monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
        """,
    )
    (found,) = render(
        renderer,
        repo,
        helm("chart"),
        kube_version="v1.31.2",
        api_versions=("monitoring.coreos.com/v1",),
    )
    assert found.body["data"] == {"kube": "v1.31.2", "monitoring": "true"}
    (without,) = render(renderer, repo, helm("chart"), kube_version="v1.31.2")
    assert without.body["data"]["monitoring"] == "false"


@pytest.mark.usefixtures("podinfo")
def test_hooks_are_kept_and_test_hooks_dropped(renderer: ManifestRenderer, repo: Path) -> None:
    values = "hooks: {preInstall: {job: {enabled: true}}}\n"
    found = render(renderer, repo, helm(values=values), kube_version=KUBE_VERSION)
    hooks = {str(r.key): r.annotations.get("helm.sh/hook") for r in found}
    assert hooks["Job.batch default/demo-podinfo-pre-install"] == "pre-install"
    assert not [r for r in found if r.key.kind == "Pod"]  # templates/tests/*: test-success


def test_crds_included_unless_skipped(renderer: ManifestRenderer, repo: Path, write: Write) -> None:
    write("chart/Chart.yaml", "apiVersion: v2\nname: withcrd\nversion: 0.1.0\n")
    write(
        "chart/crds/widget.yaml",
        """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: widgets.example.com
        """,
    )
    write("chart/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n")
    with_crds = render(renderer, repo, helm("chart"), kube_version=KUBE_VERSION)
    without = render(renderer, repo, helm("chart", skip_crds=True), kube_version=KUBE_VERSION)
    assert [r.key.kind for r in with_crds] == ["ConfigMap", "CustomResourceDefinition"]
    assert str(with_crds[1].source) == "chart/crds/widget.yaml"
    assert [r.key.kind for r in without] == ["ConfigMap"]


def test_chart_is_detected(renderer: ManifestRenderer, repo: Path, write: Write) -> None:
    write("chart/Chart.yaml", "apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    write("chart/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n")
    (found,) = render(renderer, repo, SourceSpec(REPO_URL, path="chart"))
    assert str(found.source) == "chart/templates/cm.yaml"


def test_missing_dependency_is_a_clear_error(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write(
        "chart/Chart.yaml",
        """
        apiVersion: v2
        name: parent
        version: 0.1.0
        dependencies:
        - name: redis
          version: 18.0.0
          repository: https://charts.example.com
        """,
    )
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, helm("chart"))
    assert "'redis'" in str(caught.value)
    assert "missing from charts/" in str(caught.value)
    assert caught.value.hint is not None
    assert "helm dependency build chart" in caught.value.hint


def test_vendored_dependency_renders(renderer: ManifestRenderer, repo: Path, write: Write) -> None:
    write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: parent\nversion: 0.1.0\n"
        "dependencies:\n- {name: child, version: 0.1.0, repository: file://../child}\n",
    )
    write("chart/charts/child/Chart.yaml", "apiVersion: v2\nname: child\nversion: 0.1.0\n")
    write(
        "chart/charts/child/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: child}\n",
    )
    (found,) = render(renderer, repo, helm("chart"), kube_version=KUBE_VERSION)
    assert str(found.source) == "chart/charts/child/templates/cm.yaml"


@pytest.mark.usefixtures("podinfo")
@pytest.mark.parametrize("value_file", ["../../../outside.yaml", "/etc/hostname"])
def test_value_file_outside_the_repository_is_refused(
    renderer: ManifestRenderer, repo: Path, value_file: str
) -> None:
    (repo.parent / "outside.yaml").write_text("replicaCount: 9\n")
    with pytest.raises(PathEscapeError):
        render(renderer, repo, helm(value_files=(value_file,)), kube_version=KUBE_VERSION)


@pytest.mark.usefixtures("podinfo")
def test_value_file_elsewhere_in_the_repository_is_fine(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("env/prod/values.yaml", "replicaCount: 4\nhpa: {enabled: false}\n")
    source = helm(value_files=("../../env/prod/values.yaml",))
    found = render(renderer, repo, source, kube_version=KUBE_VERSION)
    (deployment,) = [r for r in found if r.key.kind == "Deployment"]
    assert deployment.body["spec"]["replicas"] == 4


@pytest.mark.usefixtures("podinfo")
def test_value_file_symlink_leading_outside_is_refused(
    renderer: ManifestRenderer, repo: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret-values.yaml"
    secret.write_text("replicaCount: 9\n")
    (repo / "env").mkdir()
    (repo / "env" / "values.yaml").symlink_to(secret)
    with pytest.raises(PathEscapeError, match="values file"):
        render(renderer, repo, helm(value_files=("../../env/values.yaml",)))


def test_symlink_in_the_chart_leading_outside_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    secret = tmp_path / "cm.yaml"
    secret.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stolen}\n")
    write("chart/Chart.yaml", "apiVersion: v2\nname: tiny\nversion: 0.1.0\n")
    (repo / "chart" / "templates").mkdir()
    (repo / "chart" / "templates" / "cm.yaml").symlink_to(secret)
    with pytest.raises(PathEscapeError, match=r"chart/templates/cm\.yaml"):
        render(renderer, repo, helm("chart"))


@pytest.mark.usefixtures("podinfo")
def test_missing_and_remote_value_files(renderer: ManifestRenderer, repo: Path) -> None:
    with pytest.raises(RenderError, match="does not exist"):
        render(renderer, repo, helm(value_files=("values-nope.yaml",)))
    with pytest.raises(RenderError, match="is a URL"):
        render(renderer, repo, helm(value_files=("https://example.com/values.yaml",)))


def test_template_error_names_the_chart(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("chart/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    write("chart/templates/cm.yaml", "{{ .Values.nope.deeper }}\n")
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, helm("chart"))
    assert caught.value.location == "chart"
    assert "helm template failed" in str(caught.value)
    assert "nil pointer" in str(caught.value)


def test_duplicates_in_helm_output_name_both_templates(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("chart/Chart.yaml", "apiVersion: v2\nname: dup\nversion: 0.1.0\n")
    for name in ("a", "b"):
        write(
            f"chart/templates/{name}.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        )
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, helm("chart"))
    message = str(caught.value)
    assert "helm template output (chart/templates/a.yaml)" in message
    assert "helm template output (chart/templates/b.yaml)" in message
