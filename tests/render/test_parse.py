"""Parsing manifests: multi-document YAML, JSON, Lists, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitward.errors import RenderError
from gitward.model import Resource, SourceLocation
from gitward.render.parse import file_locator, parse_json, parse_yaml

from .helpers import TESTDATA


def yaml_objects(text: str, path: str = "app/x.yaml") -> list[Resource]:
    return parse_yaml(text, label=path, locate=file_locator(path))


def test_multi_document_stream_with_lines_and_empty_documents() -> None:
    text = (
        "---\n"
        "# a comment\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        "---\n"
        "---\n"
        "\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: ns}\n"
    )
    found = yaml_objects(text)
    assert [str(r.key) for r in found] == ["ConfigMap a", "Deployment.apps ns/b"]
    assert found[0].source == SourceLocation("app/x.yaml", 3, 0)
    assert found[1].source == SourceLocation("app/x.yaml", 9, 2)


def test_yaml_11_like_kubectl_but_timestamps_and_keys_stay_text() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "  labels: {yes: on}\n"
        "data: {when: 2024-01-02, mode: 0755, flag: yes, 1: one, op: =}\n"
    )
    (obj,) = yaml_objects(text)
    assert obj.body["data"] == {
        "when": "2024-01-02",
        "mode": 493,
        "flag": True,
        "1": "one",
        "op": "=",
    }
    assert obj.body["metadata"]["labels"] == {"true": True}


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n b: c\n", 5, 2, "expected"),
        ("a: b\n  c: d: e\n", 2, 4, "mapping values are not allowed"),
        ("apiVersion: v1\nkind: [unclosed\n", 3, 1, "expected ',' or ']'"),
    ],
)
def test_malformed_yaml_names_file_line_column_and_problem(
    text: str, line: int, column: int, problem: str
) -> None:
    with pytest.raises(RenderError) as caught:
        yaml_objects(text)
    assert caught.value.location == f"app/x.yaml:{line}:{column}"
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("kind: ConfigMap\nmetadata: {name: a}\n", "no apiVersion"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "no kind"),
        ("apiVersion: v1\nkind: ConfigMap\n", "ConfigMap has no metadata"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {}}\n", "no metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ''}\n", "no metadata.name"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {generateName: x-}\n", "generateName"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: no}\n", "False, a bool, not a string"),
        ("- just\n- a list\n", "document is a list"),
        ("just text\n", "document is a str"),
    ],
)
def test_invalid_objects_name_file_and_document_line(document: str, message: str) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n" + document
    with pytest.raises(RenderError) as caught:
        yaml_objects(text)
    assert caught.value.location == "app/x.yaml:5"
    assert message in str(caught.value)


def test_generate_name_says_why() -> None:
    with pytest.raises(RenderError) as caught:
        yaml_objects("apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n")
    assert "GitOps" in str(caught.value)
    assert caught.value.hint is not None
    assert "metadata.name" in caught.value.hint


def test_lists_are_flattened_including_typed_lists_and_nesting() -> None:
    text = """
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- apiVersion: v1
  kind: ServiceList
  items:
  - {apiVersion: v1, kind: Service, metadata: {name: b}}
"""
    found = yaml_objects(text)
    assert [str(r.key) for r in found] == ["ConfigMap a", "Service b"]
    assert {r.source for r in found} == {SourceLocation("app/x.yaml", 2, 0)}


def test_invalid_list_item_is_reported_at_the_list() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap}\n"
    with pytest.raises(RenderError, match="no metadata"):
        yaml_objects(text)


def test_json_object_and_list() -> None:
    one = parse_json(
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}',
        label="a.json",
        locate=file_locator("a.json"),
    )
    many = parse_json(
        '{"apiVersion": "v1", "kind": "List", "items": ['
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}',
        label="b.json",
        locate=file_locator("b.json"),
    )
    assert [str(r.key) for r in one + many] == ["ConfigMap a", "Secret s"]
    assert one[0].source == SourceLocation("a.json", 1, 0)


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(RenderError) as caught:
        parse_json(
            '{\n  "apiVersion": "v1",\n  "kind" "x"\n}',
            label="a.json",
            locate=file_locator("a.json"),
        )
    assert caught.value.location == "a.json:3:10"
    assert "invalid JSON" in str(caught.value)


def test_prometheus_operator_crds_parse() -> None:
    """The largest CRDs (up to 830 KB) parse (how fast: benchmarks/parse_bench.py)."""
    files = sorted((TESTDATA / "prometheus-operator-crds").glob("*.yaml"))
    assert len(files) == 10
    for file in files:
        text = file.read_text(encoding="utf-8")
        (crd,) = yaml_objects(text, path=Path(file.name).as_posix())
        assert crd.key.kind == "CustomResourceDefinition"
        assert (
            crd.key.name
            == file.name.removeprefix("monitoring.coreos.com_").removesuffix(".yaml")
            + ".monitoring.coreos.com"
        )


@pytest.mark.parametrize(
    "annotation",
    [
        '"argocd.argoproj.io/hook": PreSync',
        '"helm.sh/hook": pre-install',
        '"gitward.dev/hook": Sync',
    ],
)
def test_a_hook_may_use_generate_name(annotation: str) -> None:
    # Argo CD's sync-waves and helm-hooks examples declare their hook Jobs this way.
    meta = f"{{generateName: run-, annotations: {{{annotation}}}}}"
    text = f"apiVersion: batch/v1\nkind: Job\nmetadata: {meta}\n"
    (hook,) = yaml_objects(text)
    assert hook.key.name == "run-*"
    assert hook.key.generated
    assert "name" not in hook.body["metadata"]


def test_generate_name_without_a_hook_is_still_refused_with_the_hint() -> None:
    with pytest.raises(RenderError, match="GitOps cannot track") as caught:
        yaml_objects(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-, annotations: {a: b}}\n"
        )
    assert caught.value.hint is not None
    assert "only hooks" in caught.value.hint
