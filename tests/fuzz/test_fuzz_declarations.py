"""Fuzzing Application and Cluster declarations: a ConfigError or a model value, nothing else.

Documents are drawn two ways: arbitrary JSON-like values whose keys are often the ones
gitward reads, and a valid Application with leaves and subtrees replaced at random
(which reaches the deeper readers: sync policy, Helm options, ignoreDifferences).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitward.errors import ConfigError
from gitward.spec import parse_application
from gitward.spec.declarations import parse_declarations, read_documents
from tests.fuzz.budget import within
from tests.fuzz.strategies import json_values, mutate, yaml_texts

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

VALID: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "guestbook", "namespace": "argocd"},
    "spec": {
        "project": "default",
        "source": {
            "repoURL": "https://github.com/argoproj/argocd-example-apps.git",
            "targetRevision": "HEAD",
            "path": "helm-guestbook",
            "helm": {"valueFiles": ["values.yaml"], "values": "replicaCount: 2\n"},
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["CreateNamespace=true", "PruneLast=true"],
            "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        },
        "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/x"]}],
    },
}


def _parse(doc: object) -> None:
    refused: ConfigError | None = None
    with within(what=f"parsing {str(doc)[:80]}"):
        try:
            parse_application(doc, "apps/fuzz.yaml")
        except ConfigError as e:
            refused = e
        with contextlib.suppress(ConfigError):
            parse_declarations([("apps/fuzz.yaml", doc)])
    assert refused is None or "apps/fuzz.yaml" in str(refused)


@FUZZ
@given(json_values())
def test_any_document_is_an_application_or_a_config_error(doc: object) -> None:
    _parse(doc)


@FUZZ
@given(st.data())
def test_a_mutated_application_is_an_application_or_a_config_error(data: st.DataObject) -> None:
    _parse(mutate(VALID, data))


def test_the_valid_application_parses() -> None:
    assert parse_application(VALID, "apps/ok.yaml").name == "guestbook"


@FUZZ
@given(yaml_texts())
def test_any_declaration_file_is_documents_or_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    refused: ConfigError | None = None
    with within(what=f"reading {text[:60]!r}"):
        try:
            documents = read_documents(path, "apps/app.yaml")
        except ConfigError as e:
            refused, documents = e, []
        with contextlib.suppress(ConfigError):
            parse_declarations([("apps/app.yaml", doc) for doc in documents])
    assert refused is None or "apps/app.yaml" in str(refused)


def test_yaml_tags_for_python_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("!!python/object/apply:os.system ['touch /tmp/owned']\n")
    with pytest.raises(ConfigError, match="could not determine a constructor") as caught:
        read_documents(path)
    assert isinstance(caught.value.__cause__, yaml.YAMLError)
