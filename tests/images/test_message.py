"""Commit messages from Flux's messageTemplate (the text/template subset Flux documents)."""

from __future__ import annotations

import pytest

from gitward.errors import ConfigError
from gitward.imageauto.message import render
from gitward.imageauto.setters import Change

CHANGES = [
    Change("apps/web.yaml", 3, "r/web:1.0.0", "r/web:1.2.0", "apps:web", ("Deployment", "", "web")),
    Change("apps/api.yaml", 7, "1.0", "1.1", "apps:api", ("Kustomization", "", "api")),
]

IMAGES = ["r/web:1.2.0", "r/api:1.1", "r/web:1.2.0"]  # one per change; duplicates fold
FLUX_EXAMPLE = """Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Updated.Files -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $_ := .Updated.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
{{ end -}}

Images:
{{ range .Updated.Images -}}
- {{.}}
{{ end -}}
"""


def test_flux_documentation_template_renders_unchanged() -> None:
    # As Go renders it: "-}}" after the last item trims the blank line too.
    assert render(FLUX_EXAMPLE, "flux-system/auto", CHANGES, IMAGES) == (
        "Automated image update\n\nAutomation name: flux-system/auto\n\n"
        "Files:\n- apps/api.yaml\n- apps/web.yaml\n"
        "Objects:\n- Deployment web\n- Kustomization api\n"
        "Images:\n- r/api:1.1\n- r/web:1.2.0\n"
    )


def test_changes_with_variables() -> None:
    template = "{{ range $c := .Changed.Changes }}{{ $c.Setter }}={{ $c.NewValue }};{{ end }}"
    assert render(template, "a/b", CHANGES) == "apps:web=r/web:1.2.0;apps:api=1.1;"


def test_default_message_lists_every_change() -> None:
    assert render("", "apps/auto", CHANGES) == (
        "Update images (apps/auto)\n\n"
        "- r/web:1.0.0 -> r/web:1.2.0 (apps:web)\n- 1.0 -> 1.1 (apps:api)\n"
    )


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ if .X }}y{{ end }}", "action {{ if .X }} is not supported"),
        ("{{ .Updated.Images | len }}", "is not supported"),
        ("{{ range .Updated.Images }}", "is not closed"),
        ("{{ end }}", "has no range to end"),
    ],
)
def test_unsupported_templates_are_errors_naming_the_action(template: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace(".", r"\.")):
        render(template, "a/b", CHANGES)
