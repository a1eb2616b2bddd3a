"""Template rendering: Go-template subset and Argo CD's default syntax, as tables."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitward.appsets.funcs import TemplateError
from gitward.appsets.gotemplate import render
from gitward.appsets.templates import flatten, merge_template, render_fast, render_tree

DATA: dict[str, Any] = {
    "name": "Prod-EU",
    "server": "https://10.0.0.1:6443",
    "path": {"path": "apps/web", "basename": "web", "segments": ["apps", "web"]},
    "metadata": {"labels": {"env": "prod", "region": "eu-west"}},
    "replicas": 3,
    "enabled": True,
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain text", "plain text"),
        ("{{.name}}", "Prod-EU"),
        ("{{ .path.basename }}-app", "web-app"),
        ('{{index .metadata.labels "env"}}', "prod"),
        ("{{index .path.segments 0}}", "apps"),
        ("{{.name | lower}}", "prod-eu"),
        ('{{.name | replace "-" "." | upper}}', "PROD.EU"),
        ('{{printf "%s/%s" .path.path .name}}', "apps/web/Prod-EU"),
        ("{{normalize .name}}", "prod-eu"),
        ("{{.replicas}}", "3"),
        ("{{.enabled}}", "true"),
        ('{{if eq .name "x"}}a{{else if .enabled}}b{{else}}c{{end}}', "b"),
        ("{{if not .enabled}}a{{else}}c{{end}}", "c"),
        ("a  {{- .path.basename -}}  b", "awebb"),
        ("{{/* a comment */}}x", "x"),
        ('{{(index .metadata.labels "region") | upper}}', "EU-WEST"),
        ('{{default "fallback" ""}}', "fallback"),
        ("{{ $.name | trunc 4 }}", "Prod"),
        ("{{`raw \\n`}}", "raw \\n"),
        ('{{"quoted \\"x\\""}}', 'quoted "x"'),
        ('{{join "," .path.segments}}', "apps,web"),
    ],
)
def test_go_templates_render_as_argo_cd_examples_expect(template: str, expected: str) -> None:
    assert render(template, DATA) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.nmae}}", "unknown template key .nmae"),
        ("{{.path.basenam}}", "unknown template key .path.basenam"),
        ('{{index .metadata.labels "zone"}}', "no entry for key 'zone'"),
        ("{{index .path.segments 5}}", "out of range"),
        ("{{.name.first}}", "is not a map"),
        ("{{range .path.segments}}x{{end}}", "{{range}} is not supported"),
        ('{{env "HOME"}}', "function 'env' is not defined"),
        ("{{.name", "unclosed action"),
        ("{{if .name}}x", "{{if}} without {{end}}"),
        ("{{end}}", "{{end}} without {{if}}"),
        ("{{.name | }}", "empty command"),
        ("{{}}", "empty action"),
        ("{{ (.name }}", "'(' without ')'"),
        ('{{"\\q"}}', "unknown escape"),
        ("{{$x}}", "undefined variable"),
        ("{{.name .name}}", "not a function"),
    ],
)
def test_go_template_errors_name_what_is_wrong(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        render(template, DATA)


def test_a_missing_key_is_reported_as_the_key() -> None:
    with pytest.raises(TemplateError) as caught:
        render("{{.metadata.labels.zone}}", DATA)
    assert caught.value.key == ".metadata.labels.zone"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{name}}", "Prod-EU"),
        ("{{ name }}-{{path.basename}}", "Prod-EU-web"),
        ("{{metadata.labels.env}}", "prod"),
        ("{{path.segments[1]}}", "web"),
        ("no braces", "no braces"),
    ],
)
def test_argo_default_syntax_reads_flat_keys(template: str, expected: str) -> None:
    assert render_fast(template, flatten(DATA)) == expected


def test_argo_default_syntax_refuses_an_unknown_key_instead_of_leaving_it_empty() -> None:
    with pytest.raises(TemplateError, match=r"unknown template key \{\{cluster\}\}"):
        render_fast("{{cluster}}-app", flatten(DATA))


def test_render_tree_renders_keys_and_values_and_keeps_other_types() -> None:
    template = {
        "metadata": {"name": "{{.name}}", "labels": {"{{.path.basename}}": "x"}},
        "spec": {"n": 3, "list": ["{{.server}}", True]},
    }
    assert render_tree(template, DATA, go=True) == {
        "metadata": {"name": "Prod-EU", "labels": {"web": "x"}},
        "spec": {"n": 3, "list": ["https://10.0.0.1:6443", True]},
    }


def test_a_generator_template_overrides_the_sets_template_deeply() -> None:
    base = {"metadata": {"name": "a"}, "spec": {"source": {"path": "x", "repoURL": "r"}}}
    override = {"metadata": {}, "spec": {"source": {"path": "y"}}}
    assert merge_template(base, override) == {
        "metadata": {"name": "a"},
        "spec": {"source": {"path": "y", "repoURL": "r"}},
    }


text = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=30)


@given(text)
def test_text_without_actions_is_unchanged(value: str) -> None:
    assert render(value, DATA) == value
    assert render_fast(value, {}) == value


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), text, min_size=1))
def test_every_key_renders_to_its_value_in_both_syntaxes(values: dict[str, str]) -> None:
    for key, value in values.items():
        assert render("{{." + key + "}}", values) == value
        assert render_fast("{{" + key + "}}", values) == value
