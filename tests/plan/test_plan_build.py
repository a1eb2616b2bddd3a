"""build_plan and prune: actions chosen from desired, live and predicted objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitward.model import Action, HookDeletePolicy, IgnoreDifferences, Phase, Resource, ResourceKey
from gitward.plan import EmptyDesiredStateError, InvalidAnnotationError, PlanOptions, build_plan
from gitward.plan.build import project


def configmap(
    name: str, ns: str = "shop", annotations: dict[str, str] | None = None, **data: str
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def as_live(body: dict[str, Any], **extra_meta: Any) -> dict[str, Any]:
    """What the server stores: server-set metadata added."""
    live = copy.deepcopy(body)
    live["metadata"] |= {
        "uid": "u-1",
        "resourceVersion": "12",
        "managedFields": [{"manager": "gitward"}],
        **extra_meta,
    }
    return live


def deployment(replicas: int = 2, selector: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": selector}}},
    }


def plan_for(
    desired: list[dict[str, Any]],
    live: list[dict[str, Any]] | None = None,
    predicted: list[dict[str, Any]] | None = None,
    previous: list[ResourceKey] | None = None,
    **options: Any,
) -> list[tuple[str, Action, str]]:
    resources = [Resource.of(b) for b in desired]
    live_map = {ResourceKey.of(b): b for b in live or []}
    predicted_map = {ResourceKey.of(b): b for b in (predicted or [])}
    plan = build_plan(resources, live_map, predicted_map, previous or [], PlanOptions(**options))
    return [(s.key.name, s.action, s.reason) for s in plan.steps]


def test_create_update_unchanged_with_predicted() -> None:
    same, changed, new = configmap("same", a="1"), configmap("changed", a="2"), configmap("new")
    live = [as_live(configmap("same", a="1")), as_live(configmap("changed", a="1"))]
    predicted = [as_live(same, resourceVersion="13"), as_live(changed)]
    assert plan_for([same, changed, new], live, predicted) == [
        ("changed", Action.UPDATE, ""),
        ("new", Action.CREATE, ""),
        ("same", Action.UNCHANGED, ""),
    ]


def test_defaulted_fields_in_predicted_are_no_diff() -> None:
    desired = deployment()
    server = as_live(deployment()) | {"status": {"replicas": 2}}
    server["spec"]["strategy"] = {"type": "RollingUpdate"}  # a default the server adds
    assert plan_for([desired], [server], [server])[0][1] is Action.UNCHANGED


def test_without_predicted_only_desired_fields_compare() -> None:
    live = as_live(deployment()) | {"status": {"replicas": 2}}
    live["spec"]["strategy"] = {"type": "RollingUpdate"}
    assert plan_for([deployment()], [live])[0][1] is Action.UNCHANGED
    assert plan_for([deployment(replicas=3)], [live])[0][1] is Action.UPDATE


def test_update_lists_field_changes() -> None:
    live = as_live(deployment(replicas=2))
    plan = build_plan(
        [Resource.of(deployment(replicas=5))],
        {ResourceKey.of(live): live},
        {},
        [],
        PlanOptions(),
    )
    (step,) = plan.steps
    assert [(c.pointer, c.before, c.after) for c in step.changes] == [("/spec/replicas", 2, 5)]
    assert not plan.in_sync


def test_ignore_differences_makes_an_update_unchanged() -> None:
    live = as_live(deployment(replicas=7))
    rule = IgnoreDifferences(kind="Deployment", group="apps", json_pointers=("/spec/replicas",))
    assert plan_for([deployment()], [live], ignore_differences=(rule,))[0][1] is Action.UNCHANGED


@pytest.mark.parametrize(
    ("replace", "immutable_failure", "action", "reason"),
    [
        (False, False, Action.UPDATE, "/spec/selector/matchLabels/app cannot change in place"),
        (True, False, Action.REPLACE, "/spec/selector/matchLabels/app cannot change in place"),
    ],
)
def test_immutable_field_change(
    replace: bool, immutable_failure: bool, action: Action, reason: str
) -> None:
    live = as_live(deployment(selector="old"))
    ((_, got, why),) = plan_for([deployment(selector="new")], [live], replace=replace)
    assert got is action
    assert why.startswith(reason)


def test_immutable_failure_from_dry_run() -> None:
    desired, live = configmap("c", a="2"), as_live(configmap("c", a="1"))
    key = ResourceKey.of(desired)
    for replace, action in ((False, Action.UPDATE), (True, Action.REPLACE)):
        plan = build_plan(
            [Resource.of(desired)],
            {key: live},
            {},
            [],
            PlanOptions(replace=replace),
            immutable_failures={key},
        )
        assert plan.steps[0].action is action
        assert "immutable" in plan.steps[0].reason


def test_replace_annotation() -> None:
    desired = configmap("c", annotations={"argocd.argoproj.io/sync-options": "Replace=true"}, a="2")
    live = as_live(
        configmap("c", annotations={"argocd.argoproj.io/sync-options": "Replace=true"}, a="1")
    )
    assert plan_for([desired], [live])[0][1] is Action.REPLACE


def test_hooks_are_planned_at_their_phase() -> None:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "migrate",
            "namespace": "shop",
            "annotations": {
                "helm.sh/hook": "pre-install,post-upgrade",
                "helm.sh/hook-weight": "-1",
            },
        },
    }
    test_pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "smoke", "namespace": "shop", "annotations": {"helm.sh/hook": "test"}},
    }
    plan = build_plan(
        [Resource.of(job), Resource.of(test_pod), Resource.of(configmap("c"))],
        {},
        {},
        [],
        PlanOptions(),
    )
    summary = [(s.key.name, s.action, s.phase, s.wave) for s in plan.steps]
    assert summary == [
        ("migrate", Action.HOOK, Phase.PRE_SYNC, -1),
        ("c", Action.CREATE, Phase.SYNC, 0),
        ("migrate", Action.HOOK, Phase.POST_SYNC, -1),
        ("smoke", Action.KEEP, Phase.SYNC, 0),  # not run: KEEP steps go with the prunes
    ]
    assert plan.steps[0].hook_delete_policies == (HookDeletePolicy.BEFORE_HOOK_CREATION,)


def test_invalid_wave_fails_the_plan() -> None:
    bad = configmap("c", annotations={"gitward.dev/sync-wave": "first"})
    with pytest.raises(InvalidAnnotationError, match="ConfigMap shop/c"):
        plan_for([bad])


def test_being_deleted_is_reported() -> None:
    live = as_live(configmap("c"), deletionTimestamp="2026-11-01T00:00:00Z")
    assert plan_for([configmap("c")], [live])[0][1:] == (
        Action.UNCHANGED,
        "live object is being deleted",
    )


# ---------------------------------------------------------------- prune


OLD = configmap("old")
PROTECTED = configmap("protected", annotations={"gitward.dev/sync-options": "Prune=false"})
EXTRANEOUS = configmap(
    "generated", annotations={"argocd.argoproj.io/compare-options": "IgnoreExtraneous"}
)
GONE = ResourceKey("", "ConfigMap", "shop", "gone")  # in the inventory, already deleted
PREVIOUS = [ResourceKey.of(b) for b in (OLD, PROTECTED, EXTRANEOUS)] + [GONE]


@pytest.mark.parametrize(
    ("prune", "expected"),
    [
        (
            True,
            [
                ("keep", Action.CREATE, ""),
                ("generated", Action.KEEP, "annotated IgnoreExtraneous"),
                ("old", Action.PRUNE, "not in Git any more"),
                ("protected", Action.KEEP, "annotated Prune=false"),
            ],
        ),
        (
            False,
            [
                ("keep", Action.CREATE, ""),
                ("generated", Action.KEEP, "annotated IgnoreExtraneous"),
                ("old", Action.KEEP, "pruning is off"),
                ("protected", Action.KEEP, "annotated Prune=false"),
            ],
        ),
    ],
)
def test_prune(prune: bool, expected: list[tuple[str, Action, str]]) -> None:
    live = [as_live(OLD), as_live(PROTECTED), as_live(EXTRANEOUS)]
    assert plan_for([configmap("keep")], live, previous=PREVIOUS, prune=prune) == expected


def test_objects_another_controller_owns_are_never_pruned() -> None:
    """The Secret the Sealed Secrets controller made from a SealedSecret of the app."""
    owner = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "name": "db"}
    unsealed = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop"},
    }
    owned = as_live(unsealed, ownerReferences=[{**owner, "uid": "u-9", "controller": True}])
    merely_referenced = as_live(
        configmap("old"), ownerReferences=[{**owner, "uid": "u-9", "controller": False}]
    )
    previous = [ResourceKey.of(unsealed), ResourceKey.of(merely_referenced)]

    steps = plan_for([configmap("keep")], [owned, merely_referenced], previous=previous, prune=True)

    assert steps == [
        ("keep", Action.CREATE, ""),
        ("old", Action.PRUNE, "not in Git any more"),
        ("db", Action.KEEP, "controlled by SealedSecret db, which deletes it"),
    ]


def test_empty_desired_state_is_refused() -> None:
    with pytest.raises(EmptyDesiredStateError, match="refusing to prune"):
        plan_for([], [as_live(OLD)], previous=PREVIOUS, prune=True)


def test_empty_desired_state_when_allowed() -> None:
    steps = plan_for([], [as_live(OLD)], previous=PREVIOUS, prune=True, allow_empty=True)
    assert steps == [("old", Action.PRUNE, "not in Git any more")]


def test_prune_last_is_carried() -> None:
    plan = build_plan([], {}, {}, [], PlanOptions(prune_last=True))
    assert plan.prune_last
    assert plan.in_sync


@pytest.mark.parametrize(
    ("live", "shape", "projected"),
    [
        ({"a": 1, "b": 2}, {"a": 0}, {"a": 1}),
        ({"l": [{"a": 1, "x": 2}]}, {"l": [{"a": 1}]}, {"l": [{"a": 1}]}),
        ({"l": [1, 2]}, {"l": [1]}, {"l": [1, 2]}),
        ({"a": 1}, {"a": {"b": 1}}, {"a": 1}),
        (
            {"c": [{"name": "istio", "i": 1}, {"name": "web", "image": "w", "x": 1}]},
            {"c": [{"name": "web", "image": "w"}]},
            {"c": [{"name": "web", "image": "w"}]},
        ),
        (
            {"c": [{"name": "a"}, {"name": "a"}]},
            {"c": [{"name": "a"}]},
            {"c": [{"name": "a"}, {"name": "a"}]},
        ),
    ],
)
def test_project(live: Any, shape: Any, projected: Any) -> None:
    assert project(live, shape) == projected


@settings(max_examples=100, deadline=None)
@given(st.permutations([configmap(f"c{i}", a=str(i)) for i in range(6)]))
def test_plan_is_independent_of_input_order(desired: list[dict[str, Any]]) -> None:
    live = [as_live(configmap("c1", a="1")), as_live(configmap("c2", a="x")), as_live(OLD)]
    assert plan_for(desired, live, previous=PREVIOUS, prune=True) == plan_for(
        sorted(desired, key=lambda b: b["metadata"]["name"]), live, previous=PREVIOUS, prune=True
    )
