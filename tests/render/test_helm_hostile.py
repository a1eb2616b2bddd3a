"""Hostile Helm charts: template functions that would reach the cluster, files out of bounds.

Argo CD advisories show charts that read files outside themselves (CVE-2022-24731) and
charts whose templates ask the cluster for objects (``lookup``) the renderer must never
serve. gitward runs ``helm template`` offline, in an environment of its own, with no
kubeconfig: these tests prove it with the real helm and, for ``lookup``, with a real
cluster reachable through the test process's own ``KUBECONFIG``.
"""

from __future__ import annotations

import io
import secrets
import tarfile
from pathlib import Path

import pytest

from gitward.devcluster import ClusterState
from gitward.errors import RenderError
from gitward.model import HelmOptions, SourceSpec
from gitward.render import ManifestRenderer

from .helpers import REPO_URL, Write, render

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: 0.1.0\n"


def configmap_template(data: str) -> str:
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n" + data


def chart(path: str = "chart") -> SourceSpec:
    return SourceSpec(REPO_URL, path=path, helm=HelmOptions())


@pytest.mark.cluster
def test_lookup_never_reaches_the_cluster(
    renderer: ManifestRenderer,
    repo: Path,
    write: Write,
    control_plane: ClusterState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The cluster is up and this process's KUBECONFIG points at it: a helm that inherited
    # the environment, or ran with --dry-run=server, would find kube-system.
    monkeypatch.setenv("KUBECONFIG", control_plane.kubeconfig)
    write("chart/Chart.yaml", CHART_YAML.format(name="lookup"))
    write(
        "chart/templates/cm.yaml",
        configmap_template(
            '  found: {{ if (lookup "v1" "Namespace" "" "kube-system") }}"yes"'
            '{{ else }}"no"{{ end }}\n'
            '  secrets: {{ lookup "v1" "Secret" "" "" | len | quote }}\n'
        ),
    )
    (probe,) = render(renderer, repo, chart())
    assert probe.body["data"]["found"] == "no"
    assert probe.body["data"]["secrets"] == "0"


def test_files_outside_the_chart_are_not_readable(
    renderer: ManifestRenderer, repo: Path, write: Write
) -> None:
    write("secret.txt", "s3cr3t\n")
    write("chart/Chart.yaml", CHART_YAML.format(name="files"))
    write(
        "chart/templates/cm.yaml",
        configmap_template(
            '  up: {{ .Files.Get "../secret.txt" | quote }}\n'
            '  abs: {{ .Files.Get "/etc/hostname" | quote }}\n'
            '  glob: {{ len (.Files.Glob "../**") | quote }}\n'
        ),
    )
    (probe,) = render(renderer, repo, chart())
    assert probe.body["data"] == {"up": "", "abs": "", "glob": "0"}


def test_a_chart_archive_with_entries_leading_out_is_refused(
    renderer: ManifestRenderer, repo: Path, write: Write, tmp_path: Path
) -> None:
    # A vendored dependency (charts/*.tgz) whose tar entries climb out of the chart.
    target = tmp_path / f"escaped-{secrets.token_hex(4)}.yaml"
    climb = "../" * (len(target.parts) + 4) + str(target).lstrip("/")
    entries = {
        "evil/Chart.yaml": CHART_YAML.format(name="evil"),
        "evil/templates/cm.yaml": configmap_template('  k: "v"\n'),
        f"evil/{climb}": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: escaped}\n",
    }
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in entries.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    write(
        "app/Chart.yaml",
        CHART_YAML.format(name="app")
        + "dependencies:\n- name: evil\n  version: 0.1.0\n  repository: file://../evil\n",
    )
    write("app/templates/cm.yaml", configmap_template('  k: "v"\n'))
    (repo / "app" / "charts").mkdir()
    (repo / "app" / "charts" / "evil-0.1.0.tgz").write_bytes(archive.getvalue())
    with pytest.raises(RenderError) as caught:
        render(renderer, repo, chart("app"))
    assert "outside" in str(caught.value) or "illegal" in str(caught.value)
    assert not target.exists()
