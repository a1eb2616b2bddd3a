"""Argo CD's source options for formats, parsed: multi-source, Helm parameters, Kustomize
options, Jsonnet. Each mistake is a ConfigError naming the field, before any render."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gitward.errors import ConfigError
from gitward.model import HelmParameter, JsonnetVariable
from gitward.policy.project import check_project
from gitward.spec import parse_application
from gitward.spec.project import parse_project

MULTI: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "web"},
    "spec": {
        "destination": {"namespace": "web"},
        "sources": [
            {
                "repoURL": "file:///charts",
                "path": "charts/web",
                "targetRevision": "main",
                "helm": {
                    "valueFiles": ["$values/env/prod.yaml", "values.yaml"],
                    "parameters": [
                        {"name": "image.tag", "value": "1.2"},
                        {
                            "name": "podAnnotations.prometheus\\.io/scrape",
                            "value": "true",
                            "forceString": True,
                        },
                    ],
                    "valuesObject": {"replicas": 2},
                },
            },
            {"repoURL": "file:///config", "targetRevision": "v1", "ref": "values"},
        ],
    },
}


def test_multi_source_app_renders_its_first_rendering_source_and_keeps_all() -> None:
    app = parse_application(copy.deepcopy(MULTI))
    assert app.source.path == "charts/web"
    assert [s.repo_url for s in app.all_sources()] == ["file:///charts", "file:///config"]
    ref = app.sources[1]
    assert (ref.ref, ref.renders, ref.target_revision) == ("values", False, "v1")
    helm = app.source.helm
    assert helm is not None
    assert helm.value_files == ("$values/env/prod.yaml", "values.yaml")
    assert helm.parameters[1] == HelmParameter(
        "podAnnotations.prometheus\\.io/scrape", "true", True
    )
    assert json.loads(helm.values or "") == {"replicas": 2}


def test_single_source_app_has_itself_as_all_sources() -> None:
    doc = copy.deepcopy(MULTI)
    doc["spec"]["source"] = doc["spec"].pop("sources")[0]
    doc["spec"]["source"]["helm"]["valueFiles"] = ["values.yaml"]
    app = parse_application(doc)
    assert app.sources == ()
    assert app.all_sources() == (app.source,)


def test_a_ref_source_with_a_path_renders_too() -> None:
    doc = copy.deepcopy(MULTI)
    doc["spec"]["sources"][1]["path"] = "extra"
    app = parse_application(doc)
    assert app.sources[1].renders


def test_kustomize_and_jsonnet_options_are_read() -> None:
    doc = copy.deepcopy(MULTI)
    doc["spec"]["sources"] = [
        {
            "repoURL": "file:///r",
            "path": "k",
            "kustomize": {
                "images": ["nginx=registry.local/nginx:1.27"],
                "namePrefix": "p-",
                "nameSuffix": "-s",
                "commonLabels": {"team": "a"},
                "commonAnnotations": {"owner": "b"},
                "namespace": "k-ns",
                "patches": [{"target": {"kind": "Deployment"}, "patch": "- op: remove"}],
            },
        },
        {
            "repoURL": "file:///r",
            "path": "j",
            "directory": {
                "jsonnet": {
                    "extVars": [{"name": "env", "value": "prod"}],
                    "tlas": [{"name": "replicas", "value": "2", "code": True}],
                    "libs": ["vendor"],
                }
            },
        },
    ]
    app = parse_application(doc)
    kustomize = app.sources[0].kustomize
    assert kustomize is not None
    assert kustomize.edits
    assert kustomize.common_labels == (("team", "a"),)
    assert json.loads(kustomize.patches[0])["target"] == {"kind": "Deployment"}
    directory = app.sources[1].directory
    assert directory is not None
    assert directory.jsonnet.tlas == (JsonnetVariable("replicas", "2", code=True),)
    assert directory.jsonnet.libs == ("vendor",)


def _edit_sources(edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(MULTI)
    edit(doc["spec"]["sources"])
    return doc


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s[0]["helm"]["valueFiles"].append("$other/x.yaml"),
            r"sources\[0\].helm.valueFiles\[2\] '\$other/x.yaml' names ref 'other', but no "
            r"source has that ref \(refs: values\)",
        ),
        (
            lambda s: s[0]["helm"]["parameters"].append({"name": "a=b", "value": "1"}),
            r"sources\[0\].helm.parameters\[2\].name 'a=b' is not a Helm value path",
        ),
        (
            lambda s: s[0]["helm"]["parameters"].append({"name": "x,y"}),
            "is not a Helm value path",
        ),
        (
            lambda s: s.append(dict(s[1])),
            r"sources\[2\].ref 'values' is also the ref of sources\[1\]",
        ),
        (lambda s: s.pop(0), "has only ref sources"),
        (lambda s: s[1].update(ref="../x"), r"sources\[1\].ref '../x' must be letters"),
        (
            lambda s: s[0].update(kustomize={"commonLabels": {"a": 1}}),
            r"sources\[0\].kustomize.commonLabels must be a mapping of strings",
        ),
        (
            lambda s: s[0].update(kustomize={"patches": [{"target": {"kind": "X"}}]}),
            r"sources\[0\].kustomize.patches\[0\].patch or path: give exactly one",
        ),
        (
            lambda s: s[0].update(directory={"jsonnet": {"extVar": []}}),
            r"sources\[0\].directory.jsonnet.extVar is not a known field",
        ),
    ],
)
def test_mistakes_name_the_field(edit: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_application(_edit_sources(edit), origin="app.yaml")


def test_a_ref_value_file_in_a_single_source_app_is_an_error() -> None:
    doc = copy.deepcopy(MULTI)
    doc["spec"]["source"] = doc["spec"].pop("sources")[0]
    with pytest.raises(ConfigError, match=r"spec.source.helm.valueFiles\[0\] .* no source"):
        parse_application(doc, origin="app.yaml")


def test_an_app_project_checks_every_source_of_a_multi_source_app() -> None:
    project = parse_project(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "team"},
            "spec": {
                "sourceRepos": ["file:///charts"],
                "destinations": [{"namespace": "*", "server": "*"}],
            },
        }
    )
    app = parse_application(copy.deepcopy(MULTI))
    found = check_project(project, app, [], lambda _gk: True)
    assert [(v.rule, v.message) for v in found] == [
        (
            "sourceRepos",
            "source repository 'file:///config' is not permitted in project 'team' "
            "(sourceRepos: file:///charts)",
        )
    ]
