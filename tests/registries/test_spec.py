"""Registry sources in Application documents: Argo CD's chart fields and gitward's extras."""

from __future__ import annotations

from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.model import LayerOperation, LayerSelector, SourceKind, SourceSpec
from gitward.spec import parse_application


def _app(source: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web"},
        "spec": {"source": source, "destination": {"namespace": "web"}},
    }


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ({"repoURL": "https://charts.example.com/stable", "chart": "redis"}, "helm-repository"),
        ({"repoURL": "http://127.0.0.1:8080", "chart": "redis"}, "helm-repository"),
        ({"repoURL": "oci://ghcr.io/org/charts", "chart": "redis"}, "oci-chart"),
        ({"repoURL": "registry-1.docker.io/bitnamicharts", "chart": "redis"}, "oci-chart"),
        ({"repoURL": "oci://ghcr.io/org/manifests"}, "oci-artifact"),
        ({"repoURL": "https://github.com/org/repo.git"}, "git"),
        ({"repoURL": "git@github.com:org/repo.git"}, "git"),
    ],
)
def test_the_source_kind_follows_argo_cd_rules(source: dict[str, Any], kind: str) -> None:
    assert parse_application(_app(source)).source.kind() is SourceKind(kind)


def test_an_argo_cd_chart_source_parses_with_its_semver_range() -> None:
    source = parse_application(
        _app(
            {
                "repoURL": "https://charts.example.com",
                "chart": "podinfo",
                "targetRevision": "^6.1",
                "helm": {"releaseName": "pi", "valueFiles": ["values-prod.yaml"]},
            }
        )
    ).source
    assert (source.chart, source.target_revision) == ("podinfo", "^6.1")
    assert source.helm is not None
    assert source.helm.release_name == "pi"


def test_a_chart_without_a_version_asks_for_the_newest() -> None:
    source = parse_application(_app({"repoURL": "oci://r.example/c", "chart": "x"})).source
    assert source.target_revision == "*"


def test_an_oci_artifact_takes_flux_layer_selector_plain_http_and_a_secret() -> None:
    source = parse_application(
        _app(
            {
                "repoURL": "oci://127.0.0.1:5000/manifests/web",
                "targetRevision": "sha256:" + "a" * 64,
                "path": "deploy",
                "plainHTTP": True,
                "secretRef": {"name": "registry-auth"},
                "layerSelector": {"mediaType": "application/yaml", "operation": "copy"},
            }
        )
    ).source
    assert source == SourceSpec(
        repo_url="oci://127.0.0.1:5000/manifests/web",
        path="deploy",
        target_revision="sha256:" + "a" * 64,
        layer_selector=LayerSelector("application/yaml", LayerOperation.COPY),
        plain_http=True,
        secret_ref="registry-auth",
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"repoURL": "https://g.example/r.git", "layerSelector": {"mediaType": "x"}},
            "spec.source.layerSelector applies only to an oci:// repoURL",
        ),
        (
            {"repoURL": "oci://r.example/a", "layerSelector": {"mediaType": "x", "operation": "x"}},
            "spec.source.layerSelector.operation 'x' must be extract or copy",
        ),
        (
            {"repoURL": "https://c.example", "chart": "a", "kustomize": {}},
            "spec.source.chart is a Helm chart: directory and kustomize options do not apply",
        ),
        ({"repoURL": "https://c.example", "chart": " "}, "spec.source.chart must name a chart"),
        (
            {"repoURL": "oci://r.example/a", "secretRef": {}},
            "spec.source.secretRef.name is required",
        ),
    ],
)
def test_meaningless_registry_fields_are_refused_by_name(
    source: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_application(_app(source))
    assert message in str(info.value)
