"""The Kustomize renderer with the real kustomize: podinfo, overlays, no network, no escapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import PathEscapeError, RenderError
from gitward.model import KustomizeOptions, SourceSpec
from gitward.render import ManifestRenderer

from .helpers import REPO_URL, Write, configmap, copy_testdata, names, render


def test_podinfo_kustomize_renders(renderer: ManifestRenderer, repo: Path) -> None:
    copy_testdata("podinfo/kustomize", repo / "apps" / "podinfo")
    found = render(renderer, repo, SourceSpec(REPO_URL, path="apps/podinfo"))
    assert [str(r.key) for r in found] == [
        "Service podinfo",
        "Deployment.apps podinfo",
        "HorizontalPodAutoscaler.autoscaling podinfo",
    ]
    assert {str(r.source) for r in found} == {"apps/podinfo"}


def test_overlay_using_a_base_in_the_repository(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    copy_testdata("podinfo/kustomize", repo / "base")
    write(
        "overlays/prod/kustomization.yaml",
        """
        resources:
        - ../../base
        - extra.yaml
        namespace: prod
        namePrefix: prod-
        """,
    )
    write("overlays/prod/extra.yaml", configmap("extra"))
    found = render(renderer, repo, SourceSpec(REPO_URL, path="overlays/prod"))
    assert [str(r.key) for r in found] == [
        "ConfigMap prod/prod-extra",
        "Service prod/prod-podinfo",
        "Deployment.apps prod/prod-podinfo",
        "HorizontalPodAutoscaler.autoscaling prod/prod-podinfo",
    ]


def test_kustomize_is_detected_and_can_be_named(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("app/Kustomization", "resources: [cm.yaml]\nnameSuffix: -k\n")
    write("app/cm.yaml", configmap("cm"))
    write("app/unlisted.yaml", configmap("unlisted"))
    detected = render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    named = render(renderer, repo, SourceSpec(REPO_URL, path="app", kustomize=KustomizeOptions()))
    assert names(detected) == names(named) == ["cm-k"]


def test_kustomize_error_is_trimmed_and_names_the_app(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("app/kustomization.yaml", "resources: [missing.yaml]\n")
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert caught.value.location == "app"
    assert "kustomize build failed" in str(caught.value)
    assert "missing.yaml" in str(caught.value)


def test_remote_resource_fails_fast_without_network(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write(
        "app/kustomization.yaml",
        """
        resources:
        - https://raw.githubusercontent.com/stefanprodan/podinfo/master/kustomize/service.yaml
        - github.com/stefanprodan/podinfo//kustomize?ref=master
        - git@github.com:stefanprodan/podinfo.git//kustomize
        """,
    )
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    assert caught.value.hint is not None
    assert "without network" in caught.value.hint


def test_load_restrictor_keeps_files_in_their_kustomization(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("shared/cm.yaml", configmap("shared"))
    write("app/kustomization.yaml", "resources: [../shared/cm.yaml]\n")
    with pytest.raises(RenderError, match=r"security|restrict|not in or below"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))


def test_base_outside_the_repository_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    outside = tmp_path / "outside-base"
    outside.mkdir()
    (outside / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (outside / "cm.yaml").write_text(configmap("stolen"))
    write("app/kustomization.yaml", "resources: [../../outside-base]\n")
    with pytest.raises(PathEscapeError, match="outside-base"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))


def test_escaping_symlink_anywhere_in_the_repository_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(configmap("stolen"))
    write("app/kustomization.yaml", "resources: [cm.yaml]\n")
    (repo / "app" / "cm.yaml").symlink_to(secret)
    with pytest.raises(PathEscapeError, match=r"app/cm\.yaml"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))


def test_helm_inflation_only_when_enabled(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    copy_testdata("podinfo/charts/podinfo", repo / "app" / "charts" / "podinfo")
    write(
        "app/kustomization.yaml",
        """
        helmCharts:
        - name: podinfo
          releaseName: web
          kubeVersion: "1.36.3"
          valuesInline:
            redis: {enabled: false}
            hpa: {enabled: false}
        """,
    )
    with pytest.raises(RenderError, match="enable-helm"):
        render(renderer, repo, SourceSpec(REPO_URL, path="app"))
    options = KustomizeOptions(enable_helm=True)
    found = render(renderer, repo, SourceSpec(REPO_URL, path="app", kustomize=options))
    assert [str(r.key) for r in found] == [  # Helm test hooks dropped, as for Helm apps
        "Service default/web-podinfo",
        "Deployment.apps default/web-podinfo",
    ]
