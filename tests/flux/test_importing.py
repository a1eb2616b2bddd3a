"""The pure half of `gitward import`: live objects in, declarations and problems out."""

from __future__ import annotations

from typing import Any

import yaml

from gitward.spec.declarations import parse_declarations
from gitward.spec.flux.importing import clean, import_flux
from tests.flux.test_chart_kinds import HELM_RELEASE, HELM_REPOSITORY


def live(text: str) -> dict[str, Any]:
    """A document as the API server returns it: status and server-set metadata added."""
    doc: dict[str, Any] = yaml.safe_load(text)
    doc["metadata"].update(
        {
            "uid": "0b6d",
            "resourceVersion": "42",
            "generation": 3,
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
        }
    )
    doc["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}
    return doc


def test_clean_keeps_what_the_author_wrote() -> None:
    doc = clean(live(HELM_REPOSITORY))
    assert doc == yaml.safe_load(HELM_REPOSITORY)


def test_a_helm_release_imports_as_an_application_declaring_the_same_app() -> None:
    release = yaml.safe_load(HELM_RELEASE)
    del release["spec"]["valuesFrom"]
    imported = import_flux([live(yaml.safe_dump(release)), live(HELM_REPOSITORY)])
    assert imported.problems == []
    [(name, written)] = imported.files.items()
    assert name == "podinfo.yaml"
    assert written["apiVersion"] == "gitward.dev/v1alpha1"
    original = parse_declarations([("hr", release), ("repo", yaml.safe_load(HELM_REPOSITORY))])
    assert parse_declarations([(name, written)]).apps == original.apps


def test_what_an_application_cannot_say_is_reported_with_the_way_out() -> None:
    imported = import_flux([live(HELM_RELEASE), live(HELM_REPOSITORY)])
    assert imported.files == {}
    [problem] = imported.problems
    assert problem.startswith("default/podinfo: HelmRelease: values_from cannot be written")
    assert "gitward reads the HelmRelease document itself" in problem


def test_a_missing_source_is_reported_not_guessed() -> None:
    imported = import_flux([live(HELM_RELEASE)])
    [problem] = imported.problems
    assert "names HelmRepository default/podinfo, which is not declared" in problem
