"""Flux's chart and artifact kinds from Flux's documentation examples, as gitward apps."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitward.errors import ConfigError
from gitward.model import LayerOperation, LayerSelector, RetryPolicy, ValuesReference
from gitward.spec.declarations import parse_declarations

HELM_REPOSITORY = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: default}
spec:
  interval: 5m
  url: https://stefanprodan.github.io/podinfo
"""
HELM_RELEASE = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: default}
spec:
  interval: 10m
  timeout: 5m
  chart:
    spec:
      chart: podinfo
      version: '6.5.*'
      sourceRef: {kind: HelmRepository, name: podinfo}
      interval: 5m
  releaseName: podinfo
  install:
    createNamespace: true
    remediation: {retries: 3}
  upgrade:
    remediation: {retries: 5}
  test: {enable: false}
  driftDetection: {mode: enabled}
  values:
    replicaCount: 2
  valuesFrom:
    - kind: ConfigMap
      name: podinfo-values
    - kind: Secret
      name: podinfo-secret
      valuesKey: color
      targetPath: ui.color
      optional: true
"""
OCI_REPOSITORY = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: podinfo, namespace: default}
spec:
  interval: 10m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref: {semver: ">= 6.0.0"}
  layerSelector:
    mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip"
    operation: extract
"""


def parse(*texts: str) -> dict[str, Any]:
    return parse_declarations([(f"f{i}.yaml", yaml.safe_load(t)) for i, t in enumerate(texts)]).apps


def test_helm_release_from_a_helm_repository() -> None:
    app = parse(HELM_RELEASE, HELM_REPOSITORY)["podinfo"]
    assert app.source.repo_url == "https://stefanprodan.github.io/podinfo"
    assert (app.source.chart, app.source.target_revision) == ("podinfo", "6.5.*")
    assert app.source.helm.release_name == "podinfo"
    assert yaml.safe_load(app.source.helm.values) == {"replicaCount": 2}
    assert app.destination.namespace == "default"
    assert app.sync_policy.enabled("CreateNamespace")
    assert app.sync_policy.self_heal  # driftDetection enabled
    assert app.sync_policy.retry == RetryPolicy(limit=5)
    assert app.values_from == (
        ValuesReference("ConfigMap", "podinfo-values", "default"),
        ValuesReference("Secret", "podinfo-secret", "default", "color", "ui.color", True),
    )


def test_release_name_defaults_to_target_namespace_and_name() -> None:
    release = yaml.safe_load(HELM_RELEASE)
    del release["spec"]["releaseName"]
    release["spec"]["targetNamespace"] = "apps"
    repo = yaml.safe_load(HELM_REPOSITORY)
    app = parse_declarations([("r", release), ("s", repo)]).apps["podinfo"]
    assert app.source.helm is not None
    assert app.source.helm.release_name == "apps-podinfo"
    assert app.destination.namespace == "apps"


def test_chart_ref_to_an_oci_repository_reads_it_as_a_chart() -> None:
    oci = OCI_REPOSITORY.replace("manifests/podinfo", "charts/podinfo")
    release = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: podinfo, namespace: default}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: podinfo}
"""
    source = parse(release, oci)["podinfo"].source
    assert (source.repo_url, source.chart) == ("oci://ghcr.io/stefanprodan/charts", "podinfo")
    assert source.target_revision == ">= 6.0.0"


def test_chart_ref_to_a_helm_chart_takes_its_repository_version_and_values_files() -> None:
    chart = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: podinfo-chart, namespace: default}
spec:
  interval: 5m0s
  chart: podinfo
  reconcileStrategy: ChartVersion
  sourceRef: {kind: HelmRepository, name: podinfo}
  version: '5.*'
  valuesFiles: [values.yaml, values-prod.yaml]
"""
    release = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web, namespace: default}
spec:
  interval: 10m
  chartRef: {kind: HelmChart, name: podinfo-chart}
"""
    source = parse(release, chart, HELM_REPOSITORY)["web"].source
    assert (source.chart, source.target_revision) == ("podinfo", "5.*")
    assert source.helm.value_files == ("values.yaml", "values-prod.yaml")


def test_kustomization_from_an_oci_repository() -> None:
    kustomization = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: podinfo, namespace: default}
spec:
  interval: 10m
  sourceRef: {kind: OCIRepository, name: podinfo}
  path: ./
  prune: true
"""
    source = parse(kustomization, OCI_REPOSITORY)["podinfo"].source
    assert source.repo_url == "oci://ghcr.io/stefanprodan/manifests/podinfo"
    assert source.path == "."
    assert source.layer_selector == LayerSelector(
        "application/vnd.cncf.flux.content.v1.tar+gzip", LayerOperation.EXTRACT
    )


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"serviceAccountName": "x"}, "HelmRelease spec.serviceAccountName is not supported"),
        (
            {"upgrade": {"remediation": {"strategy": "uninstall"}}},
            "HelmRelease spec.upgrade.remediation.strategy is not supported",
        ),
        ({"postRenderers": [{"kustomize": {}}]}, "HelmRelease spec.postRenderers is not supported"),
        ({"test": {"enable": True}}, "HelmRelease spec.test.enable is not supported"),
        ({"valuesFrom": [{"kind": "Secret"}]}, "spec.valuesFrom[0].name is required"),
        ({"chartRef": {"kind": "OCIRepository", "name": "x"}}, "chart or chartRef: give exactly"),
    ],
)
def test_helm_release_fields_gitward_lacks_are_named(patch: dict[str, Any], message: str) -> None:
    release = yaml.safe_load(HELM_RELEASE)
    release["spec"].update(patch)
    with pytest.raises(ConfigError) as raised:
        parse_declarations([("hr.yaml", release), ("r.yaml", yaml.safe_load(HELM_REPOSITORY))])
    assert str(raised.value).startswith("hr.yaml: ")
    assert message in str(raised.value)


def test_defaults_an_api_server_writes_are_accepted() -> None:
    repo = yaml.safe_load(HELM_REPOSITORY)
    repo["spec"].update({"provider": "generic", "timeout": "60s", "suspend": False})
    assert "podinfo" in parse_declarations([("hr", yaml.safe_load(HELM_RELEASE)), ("r", repo)]).apps
