"""Application documents: Argo CD's unchanged, gitward's extras, and clear errors."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitward.errors import ConfigError
from gitward.model import RendererKind, SyncOption
from gitward.spec import parse_application

ARGO_APP = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
  finalizers: [resources-finalizer.argocd.argoproj.io]
spec:
  project: default
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: HEAD
    path: helm-guestbook
    helm:
      releaseName: gb
      valueFiles: [values-prod.yaml]
      values: |
        replicaCount: 2
  destination:
    server: https://kubernetes.default.svc
    namespace: guestbook
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true, PruneLast=true]
    retry:
      limit: 3
      backoff: {duration: 10s, factor: 2, maxDuration: 3m}
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
"""


def load(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


def test_an_argo_cd_application_is_accepted_as_it_is() -> None:
    app = parse_application(load(ARGO_APP))

    assert app.name == "guestbook"
    assert app.source.repo_url.endswith("argocd-example-apps.git")
    assert app.source.renderer() is RendererKind.HELM
    assert app.source.helm is not None
    assert app.source.helm.release_name == "gb"
    assert app.source.helm.value_files == ("values-prod.yaml",)
    assert app.destination.namespace == "guestbook"
    assert app.sync_policy.automated
    assert app.sync_policy.prune
    assert app.sync_policy.self_heal
    assert app.sync_policy.enabled(SyncOption.CREATE_NAMESPACE)
    assert app.sync_policy.enabled(SyncOption.PRUNE_LAST)
    assert not app.sync_policy.enabled(SyncOption.REPLACE)
    assert app.sync_policy.retry is not None
    assert (
        app.sync_policy.retry.limit,
        app.sync_policy.retry.backoff_seconds,
        app.sync_policy.retry.max_backoff_seconds,
    ) == (3, 10.0, 180.0)
    assert app.ignore_differences[0].json_pointers == ("/spec/replicas",)


def test_gitward_extras_sit_beside_argo_fields() -> None:
    doc = load(ARGO_APP.replace("argoproj.io/v1alpha1", "gitward.dev/v1alpha1"))
    doc["spec"]["dependsOn"] = ["database"]
    doc["spec"]["healthChecks"] = [
        {"group": "example.com", "kind": "Widget", "healthy": "object.status.ready == true"}
    ]
    app = parse_application(doc)
    assert app.depends_on == ("database",)
    assert app.health_rules[0].healthy == "object.status.ready == true"


def test_values_object_becomes_a_values_document() -> None:
    doc = load(ARGO_APP)
    del doc["spec"]["source"]["helm"]["values"]
    doc["spec"]["source"]["helm"]["valuesObject"] = {"replicaCount": 3, "image": {"tag": "1"}}
    app = parse_application(doc)
    assert app.source.helm is not None
    assert yaml.safe_load(app.source.helm.values or "") == {
        "replicaCount": 3,
        "image": {"tag": "1"},
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["spec"]["source"].update(repoUrl="x"),
            "spec.source.repoUrl is not a known field",
        ),
        (
            lambda d: d["spec"]["syncPolicy"]["automated"].update(selfheal=True),
            "spec.syncPolicy.automated.selfheal is not a known field",
        ),
        (
            lambda d: d["spec"].update(sources=[d["spec"]["source"]]),
            "spec.source and spec.sources are both set",
        ),
        (
            lambda d: d["spec"]["source"]["helm"].update(parameters=[{"name": "a b"}]),
            r"spec.source.helm.parameters\[0\].name 'a b' is not a Helm value path",
        ),
        (
            lambda d: d["spec"]["ignoreDifferences"][0].update(jqPathExpressions=["."]),
            r"spec.ignoreDifferences\[0\].jqPathExpressions is not supported",
        ),
        (lambda d: d["spec"]["source"].pop("repoURL"), "spec.source.repoURL is required"),
        (lambda d: d["metadata"].update(name="Guest_Book"), "must be a DNS label"),
        (
            lambda d: d["spec"]["syncPolicy"]["retry"]["backoff"].update(duration="soon"),
            "is not a duration",
        ),
        (
            lambda d: d["spec"]["syncPolicy"].update(syncOptions=["CreateNamespace"]),
            "must look like Name=value",
        ),
        (lambda d: d.update(kind="ApplicationSet"), "expected kind Application"),
        (lambda d: d["spec"]["source"]["helm"].update(valuesObject={"a": 1}), "give one of them"),
    ],
)
def test_mistakes_are_errors_that_name_the_field(edit: Any, message: str) -> None:
    doc = load(ARGO_APP)
    edit(doc)
    with pytest.raises(ConfigError, match=message):
        parse_application(doc, origin="app.yaml")


def test_errors_name_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^app\.yaml: spec is required"):
        parse_application(
            {
                "apiVersion": "gitward.dev/v1alpha1",
                "kind": "Application",
                "metadata": {"name": "x"},
            },
            origin="app.yaml",
        )
