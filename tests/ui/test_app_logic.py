"""The Application page's pure parts: drift to Git, Events selection, revision diffs.

No cluster nor browser: these check the logic the browser tests (test_app_objects.py)
cannot reach case by case, such as a field inside a list, a field Git never set, a
Secret, or Events about objects a workload created.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from gitward.model import IgnoreDifferences, ResourceKey
from gitward.model.app import AppSpec
from gitward.spec.application import parse_application
from gitward.ui import drift, kevents, revisions

DEPLOY = ResourceKey("apps", "Deployment", "shop", "web")


def deployment(replicas: int, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "app", "image": image}]}},
        },
    }


def test_an_ignore_rule_is_valid_app_syntax_and_hides_only_that_field() -> None:
    git, live = deployment(2, "app:1"), deployment(5, "app:2")
    suggestion = drift.ignore_rule(DEPLOY, "/spec/replicas", git, live)
    assert suggestion.problem == ""
    entry = yaml.safe_load(suggestion.text)["spec"]["ignoreDifferences"][0]
    assert entry == {
        "group": "apps",
        "kind": "Deployment",
        "name": "web",
        "namespace": "shop",
        "jsonPointers": ["/spec/replicas"],
    }
    rule = IgnoreDifferences(
        kind="Deployment",
        group="apps",
        name="web",
        namespace="shop",
        json_pointers=("/spec/replicas",),
    )
    left = [c.pointer for c in drift.drifted_fields(DEPLOY, git, live, [rule])]
    assert left == ["/spec/template/spec/containers/0/image"]


def test_keeping_a_live_value_inside_a_list_patches_git_to_agree() -> None:
    git, live = deployment(2, "app:1"), deployment(2, "app:2")
    ptr = "/spec/template/spec/containers/0/image"
    suggestion = drift.keep_live(DEPLOY, ptr, git, live)
    assert suggestion.problem == ""
    assert "op: replace" in suggestion.text
    assert "value: app:2" in suggestion.text
    assert "image: app:2" in suggestion.extra
    assert git["spec"]["template"]["spec"]["containers"][0]["image"] == "app:1"  # not mutated


def test_keeping_a_field_git_never_set_adds_it_and_one_live_lacks_removes_it() -> None:
    git = deployment(2, "app:1")
    del git["spec"]["replicas"]
    live = deployment(3, "app:1")
    added = drift.keep_live(DEPLOY, "/spec/replicas", git, live)
    assert "op: add" in added.text
    assert "value: 3" in added.text
    removed = drift.keep_live(DEPLOY, "/spec/replicas", live, git)
    assert "op: remove" in removed.text
    assert "replicas" not in removed.extra


def test_a_secret_gets_no_keep_live_patch_and_no_value_in_its_drift() -> None:
    key = ResourceKey("", "Secret", "shop", "creds")
    git: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"password": "Z2l0"},
    }
    live = copy.deepcopy(git)
    live["data"]["password"] = "bGl2ZQ=="
    fields = drift.drifted_fields(key, git, live)
    assert [c.pointer for c in fields] == ["/data/password"]
    assert "Z2l0" not in repr(fields)
    assert "bGl2ZQ==" not in repr(fields)
    kept = drift.keep_live(key, "/data/password", git, live)
    assert kept.text == ""
    assert "Secret" in kept.problem


def test_a_field_that_does_not_differ_gets_no_patch() -> None:
    git = deployment(2, "app:1")
    kept = drift.keep_live(DEPLOY, "/spec/replicas", git, copy.deepcopy(git))
    assert kept.text == ""
    assert "does not differ" in kept.problem


def event(kind: str, name: str, message: str, at: str) -> dict[str, Any]:
    return {
        "involvedObject": {"kind": kind, "name": name, "namespace": "shop"},
        "message": message,
        "reason": "R",
        "type": "Normal",
        "lastTimestamp": at,
    }


def test_events_of_the_apps_objects_and_of_what_its_workloads_created_newest_first() -> None:
    items = [
        event("Deployment", "web", "scaled", "2026-01-01T00:00:01Z"),
        event("Pod", "web-5d8f7-abcde", "pulled", "2026-01-01T00:00:03Z"),
        event("Pod", "webhook-1", "other app's pod", "2026-01-01T00:00:04Z"),
        event("ConfigMap", "web", "same name, another kind", "2026-01-01T00:00:05Z"),
        event("Deployment", "api", "another app", "2026-01-01T00:00:02Z"),
    ]
    found = kevents.select(items, [DEPLOY])
    assert [e.message for e in found] == ["pulled", "scaled"]
    assert found[0].object == "Pod/web-5d8f7-abcde"


def test_revision_changes_mask_secrets_and_count_unchanged_objects() -> None:
    spec = parse_application(
        {
            "apiVersion": "gitward.dev/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "a"},
            "spec": {
                "source": {"repoURL": "https://example.invalid/r.git", "path": "."},
                "destination": {"namespace": "shop"},
            },
        }
    )
    assert isinstance(spec, AppSpec)
    key = ResourceKey("", "Secret", "shop", "creds")
    same = ResourceKey("", "ConfigMap", "shop", "same")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}}

    def secret(value: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": value},
        }

    changed, unchanged = revisions.changes(
        spec, {key: secret("old-value"), same: body}, {key: secret("new-value"), same: body}
    )
    assert unchanged == 1
    assert [(c.key, c.change) for c in changed] == [(str(key), "changed")]
    text = "\n".join(line.text for line in changed[0].lines)
    assert "old-value" not in text
    assert "new-value" not in text
    assert "password" in text
