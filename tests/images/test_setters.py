"""Setter markers: the marked scalar changes, every other byte of the file stays."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gitward.imageauto.setters import Change, Latest, edit_text, marker_of

LATEST = {"apps:web": Latest("registry.local:5000/team/web", "1.2.0")}

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web  # the front end
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.local:5000/team/web:1.0.0 # {"$imagepolicy": "apps:web"}

        - name: sidecar
          image: busybox:1.36   # not marked: never touched
"""


def test_a_marked_image_gets_the_new_reference_and_nothing_else_changes() -> None:
    edited, changes = edit_text(DEPLOYMENT, LATEST, "deploy.yaml")

    assert edited == DEPLOYMENT.replace(":1.0.0 #", ":1.2.0 #")
    assert changes == [
        Change(
            "deploy.yaml",
            10,
            "registry.local:5000/team/web:1.0.0",
            "registry.local:5000/team/web:1.2.0",
            "apps:web",
            ("Deployment", "", "web"),
        )
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '  tag: 1.0.0 # {"$imagepolicy": "apps:web:tag"}',
            '  tag: 1.2.0 # {"$imagepolicy": "apps:web:tag"}',
        ),
        (
            '  repository: old/web # {"$imagepolicy": "apps:web:name"}',
            '  repository: registry.local:5000/team/web # {"$imagepolicy": "apps:web:name"}',
        ),
        (
            '    newTag: "1.0.0"   # {"$imagepolicy": "apps:web:tag"}',
            '    newTag: "1.2.0"   # {"$imagepolicy": "apps:web:tag"}',
        ),
        (
            '  - x:1 # {"$imagepolicy": "apps:web"}',
            '  - registry.local:5000/team/web:1.2.0 # {"$imagepolicy": "apps:web"}',
        ),
        (
            "  'image': 'a:1' #{\"$imagepolicy\":\"apps:web\"}",
            "  'image': 'registry.local:5000/team/web:1.2.0' #{\"$imagepolicy\":\"apps:web\"}",
        ),
    ],
)
def test_tag_name_quoted_and_list_forms(line: str, expected: str) -> None:
    edited, changes = edit_text(line, LATEST, "f.yaml")
    assert edited == expected
    assert len(changes) == 1


@pytest.mark.parametrize(
    "line",
    [
        '  image: a:1 # {"$imagepolicy": "apps:other"}',  # a policy with no selection
        '  image: a:1 # {"$imagepolicy": "apps:web:digest"}',  # a field gitward does not set
        '  image: a:1 # {"$imagepolicy": apps:web}',  # not JSON
        "  image: a:1 # imagepolicy apps:web",
        '  image: registry.local:5000/team/web:1.2.0 # {"$imagepolicy": "apps:web"}',  # current
    ],
)
def test_lines_that_are_left_alone(line: str) -> None:
    assert edit_text(line, LATEST, "f.yaml") == (line, [])


def test_kustomization_images_with_setters_stay_valid_yaml() -> None:
    text = (
        "resources: [deploy.yaml]\n"
        "images:\n"
        "  - name: web\n"
        '    newName: registry.local:5000/team/web # {"$imagepolicy": "apps:web:name"}\n'
        '    newTag: 1.0.0 # {"$imagepolicy": "apps:web:tag"}\n'
    )
    edited, changes = edit_text(text, LATEST, "kustomization.yaml")

    assert [c.new for c in changes] == ["1.2.0"]  # the name was already current
    assert yaml.safe_load(edited)["images"][0] == {
        "name": "web",
        "newName": "registry.local:5000/team/web",
        "newTag": "1.2.0",
    }


def test_marker_forms() -> None:
    assert marker_of('{"$imagepolicy": "ns:p"}') == ("ns:p", "")
    assert marker_of('{"$imagepolicy": "ns:p:tag"}') == ("ns:p", "tag")
    assert marker_of('{"$imagepolicy": "ns:p:digest"}') == ("ns:p", "digest")
    assert marker_of('{"$imagepolicy": "ns:p:size"}') is None
    assert marker_of('{"$imagepolicy": "p"}') is None
    assert marker_of('{"$other": "ns:p"}') is None


_LINES = st.sampled_from(
    [
        "kind: Deployment",
        "  # a comment: with a colon",
        "",
        "    - name: web",
        '      image: old/web:0.1 # {"$imagepolicy": "apps:web"}',
        '      tag: "0.1"   # {"$imagepolicy": "apps:web:tag"}',
        "  replicas: 2  # keep",
        '  note: "# {\\"$imagepolicy\\": \\"apps:web\\"} in a string"',
    ]
)


@given(st.lists(_LINES, max_size=20))
def test_only_marked_lines_change_and_a_second_edit_changes_nothing(lines: list[str]) -> None:
    text = "\n".join(lines)
    edited, changes = edit_text(text, LATEST, "f.yaml")

    before, after = text.split("\n"), edited.split("\n")
    assert len(before) == len(after)
    changed = {i + 1 for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
    assert changed == {c.line for c in changes}
    assert all("$imagepolicy" in before[n - 1] for n in changed)
    assert edit_text(edited, LATEST, "f.yaml") == (edited, [])


PINNED = {"apps:web": Latest("registry.local:5000/team/web", "1.2.0", "sha256:" + "ab" * 32)}


def test_a_policy_that_reflects_digests_pins_the_image_and_fills_digest_markers() -> None:
    text = (
        'image: old/web:1.0.0 # {"$imagepolicy": "apps:web"}\n'
        'tag: 1.0.0 # {"$imagepolicy": "apps:web:tag"}\n'
        'digest: sha256:00 # {"$imagepolicy": "apps:web:digest"}\n'
    )
    edited, changes = edit_text(text, PINNED, "values.yaml")
    digest = "sha256:" + "ab" * 32
    assert edited.splitlines() == [
        f'image: registry.local:5000/team/web:1.2.0@{digest} # {{"$imagepolicy": "apps:web"}}',
        'tag: 1.2.0 # {"$imagepolicy": "apps:web:tag"}',
        f'digest: {digest} # {{"$imagepolicy": "apps:web:digest"}}',
    ]
    assert [c.new for c in changes] == [
        f"registry.local:5000/team/web:1.2.0@{digest}",
        "1.2.0",
        digest,
    ]


def test_a_digest_marker_of_a_policy_without_digests_is_left_alone() -> None:
    line = 'digest: sha256:00 # {"$imagepolicy": "apps:web:digest"}'
    assert edit_text(line, LATEST, "values.yaml") == (line, [])
