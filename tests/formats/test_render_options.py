"""Helm parameters, $ref values files of multi-source apps, and Kustomize options, rendered
by the real helm and kustomize on real Git repositories (no cluster)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from gitward import compose
from gitward.errors import GitwardError, PathEscapeError
from gitward.model import (
    AppSpec,
    Destination,
    HelmFileParameter,
    HelmOptions,
    HelmParameter,
    KustomizeOptions,
    Resource,
    SourceSpec,
)
from gitward.reconcile.source import render_app
from gitward.render import ManifestRenderer
from tests.engine.conftest import GitRepo

CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\nlabel: base\nnote: none\n",
    "chart/templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cfg\n"
        "data:\n  replicas: {{ .Values.replicas | quote }}\n"
        "  replicasType: {{ kindOf .Values.replicas | quote }}\n"
        "  label: {{ .Values.label | quote }}\n  note: {{ .Values.note | quote }}\n"
    ),
}
KUSTOMIZATION = {
    "k/kustomization.yaml": "resources: [deploy.yaml]\n",
    "k/deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      containers:\n      - {name: web, image: nginx:1.25}\n"
    ),
    "k/replicas.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 4}\n"
    ),
}


def _render(renderer: ManifestRenderer, app: AppSpec, tmp_path: Path) -> list[Resource]:
    git = compose.git_source(compose.Settings(cache_dir=tmp_path / "cache"))
    return asyncio.run(render_app(git, renderer, app, None)).resources


def _app(*sources: SourceSpec) -> AppSpec:
    return AppSpec(
        name="web",
        source=next(s for s in sources if s.renders),
        sources=sources if len(sources) > 1 else (),
        destination=Destination(namespace="web"),
    )


def test_helm_parameters_win_over_values_and_force_string_keeps_strings(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write({**CHART, "chart/notes.txt": "from a file, with, commas"})
    repo.commit()
    helm = HelmOptions(
        values="label: inline\nreplicas: 2\n",
        parameters=(
            HelmParameter("replicas", "3"),
            HelmParameter("label", "a,b\\c", force_string=True),
        ),
        file_parameters=(HelmFileParameter("note", "notes.txt"),),
    )
    [cm] = _render(renderer, _app(SourceSpec(str(repo.path), "chart", helm=helm)), tmp_path)
    assert cm.body["data"] == {
        "replicas": "3",
        "replicasType": "int64",
        "label": "a,b\\c",
        "note": "from a file, with, commas",
    }


def test_a_file_parameter_outside_the_repository_is_refused(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(CHART)
    repo.commit()
    helm = HelmOptions(file_parameters=(HelmFileParameter("note", "../../../etc/passwd"),))
    with pytest.raises(PathEscapeError, match="leads outside the repository"):
        _render(renderer, _app(SourceSpec(str(repo.path), "chart", helm=helm)), tmp_path)


def test_ref_values_file_comes_from_the_other_repository(
    repo: GitRepo, other_repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(CHART)
    repo.commit()
    other_repo.write({"env/prod.yaml": "label: prod\nreplicas: 5\n"})
    other_repo.git("checkout", "-q", "-b", "config")
    other_repo.commit()
    helm = HelmOptions(value_files=("values.yaml", "$config/env/prod.yaml"))
    chart = SourceSpec(str(repo.path), "chart", helm=helm)
    config = SourceSpec(str(other_repo.path), target_revision="config", ref="config", renders=False)
    [cm] = _render(renderer, _app(chart, config), tmp_path)
    assert (cm.body["data"]["label"], cm.body["data"]["replicas"]) == ("prod", "5")


def test_ref_values_file_cannot_climb_out_of_its_tree(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(CHART)
    repo.commit()
    helm = HelmOptions(value_files=("$config/../../../../etc/passwd",))
    chart = SourceSpec(str(repo.path), "chart", helm=helm)
    config = SourceSpec(str(repo.path), ref="config", renders=False)
    with pytest.raises(PathEscapeError, match="leads outside"):
        _render(renderer, _app(chart, config), tmp_path)


def test_two_sources_are_combined_and_a_duplicate_names_both(
    repo: GitRepo, other_repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(
        {**CHART, "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"}
    )
    repo.commit()
    other_repo.write(
        {"dup/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-cfg\n"}
    )
    other_repo.commit()
    chart = SourceSpec(str(repo.path), "chart")
    plain = SourceSpec(str(repo.path), "plain")
    names = [r.key.name for r in _render(renderer, _app(chart, plain), tmp_path)]
    assert names == ["web-cfg", "extra"]
    dup = SourceSpec(str(other_repo.path), "dup")
    with pytest.raises(
        GitwardError, match=r"rendered by two sources: .*path chart.* and .*path dup"
    ):
        _render(renderer, _app(chart, dup), tmp_path)


def test_kustomize_options_apply_through_an_overlay_without_editing_the_checkout(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(KUSTOMIZATION)
    repo.commit()
    options = KustomizeOptions(
        images=("nginx=registry.local/nginx:1.27",),
        name_prefix="p-",
        name_suffix="-s",
        common_labels=(("team", "blue"),),
        common_annotations=(("owner", "ops"),),
        namespace="kns",
        patches=(json.dumps({"path": "replicas.yaml"}),),
    )
    [deploy] = _render(renderer, _app(SourceSpec(str(repo.path), "k", kustomize=options)), tmp_path)
    meta = deploy.body["metadata"]
    assert (meta["name"], meta["namespace"]) == ("p-web-s", "kns")
    assert meta["labels"] == {"team": "blue"}
    assert meta["annotations"] == {"owner": "ops"}
    spec = deploy.body["spec"]
    assert spec["replicas"] == 4
    assert spec["template"]["spec"]["containers"][0]["image"] == "registry.local/nginx:1.27"
    assert repo.git("status", "--porcelain") == ""


def test_an_inline_kustomize_patch_with_a_target_and_a_digest_image(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(KUSTOMIZATION)
    repo.commit()
    digest = "sha256:" + "a" * 64
    patch = "- op: add\n  path: /spec/paused\n  value: true\n"
    options = KustomizeOptions(
        images=(f"nginx@{digest}",),
        patches=(json.dumps({"patch": patch, "target": {"kind": "Deployment", "name": "web"}}),),
    )
    [deploy] = _render(renderer, _app(SourceSpec(str(repo.path), "k", kustomize=options)), tmp_path)
    assert deploy.body["spec"]["paused"] is True
    assert deploy.body["spec"]["template"]["spec"]["containers"][0]["image"] == f"nginx@{digest}"


def test_a_kustomize_patch_path_outside_the_repository_is_refused(
    repo: GitRepo, renderer: ManifestRenderer, tmp_path: Path
) -> None:
    repo.write(KUSTOMIZATION)
    repo.commit()
    options = KustomizeOptions(patches=(json.dumps({"path": "../../../../etc/passwd"}),))
    with pytest.raises(PathEscapeError, match="leads outside"):
        _render(renderer, _app(SourceSpec(str(repo.path), "k", kustomize=options)), tmp_path)
