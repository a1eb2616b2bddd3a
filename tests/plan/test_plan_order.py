"""Ordering: the comparator as a table, and properties that hold for any plan."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitward.model import Action, GroupKind, Phase, Resource, ResourceKey, Step
from gitward.plan.order import KIND_ORDER, UNKNOWN_RANK, kind_rank, order, sort_key

CRD_GROUP = "apiextensions.k8s.io"


def step(
    group: str,
    kind: str,
    name: str,
    namespace: str = "",
    *,
    wave: int = 0,
    phase: Phase = Phase.SYNC,
    action: Action = Action.CREATE,
    body: dict[str, Any] | None = None,
) -> Step:
    key = ResourceKey(group, kind, namespace, name)
    desired = Resource(key, body or {})
    return Step(key, action, phase=phase, wave=wave, desired=desired)


def crd(group: str, kind: str, *, wave: int = 0) -> Step:
    body = {"spec": {"group": group, "names": {"kind": kind}}}
    plural = kind.lower() + "s"
    return step(CRD_GROUP, "CustomResourceDefinition", f"{plural}.{group}", wave=wave, body=body)


def names(steps: tuple[Step, ...]) -> list[str]:
    return [f"{s.key.kind}/{s.key.name}" for s in steps]


@pytest.mark.parametrize(
    ("group_kind", "rank"),
    [
        (GroupKind("", "Namespace"), 0),
        (GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"), 13),
        (GroupKind("apps", "Deployment"), KIND_ORDER.index("Deployment")),
        (GroupKind("networking.k8s.io", "Ingress"), KIND_ORDER.index("Ingress")),
        (GroupKind("example.com", "Service"), UNKNOWN_RANK),  # a custom kind named Service
        (GroupKind("", "Widget"), UNKNOWN_RANK),
    ],
)
def test_kind_rank(group_kind: GroupKind, rank: int) -> None:
    assert kind_rank(group_kind) == rank


def test_comparator_phase_then_wave_then_kind_then_namespace_then_name() -> None:
    steps = [
        step("apps", "Deployment", "web", "a", wave=1),
        step("", "ConfigMap", "b", "a", wave=1),
        step("", "ConfigMap", "a", "b", wave=1),
        step("", "ConfigMap", "z", "a", wave=1),
        step("batch", "Job", "pre", "a", wave=5, phase=Phase.PRE_SYNC, action=Action.HOOK),
        step("batch", "Job", "post", "a", wave=-5, phase=Phase.POST_SYNC, action=Action.HOOK),
        step("", "Service", "web", "a", wave=-1),
    ]
    assert names(order(steps)) == [
        "Job/pre",
        "Service/web",
        "ConfigMap/b",
        "ConfigMap/z",
        "ConfigMap/a",
        "Deployment/web",
        "Job/post",
    ]


def test_namespace_moves_to_the_earliest_wave_of_its_objects() -> None:
    steps = [
        step("", "Namespace", "shop", wave=5),
        step("", "ConfigMap", "cfg", "shop", wave=2),
        step("", "ConfigMap", "other", "elsewhere", wave=-3),
    ]
    ordered = order(steps)
    assert names(ordered) == ["ConfigMap/other", "Namespace/shop", "ConfigMap/cfg"]
    assert ordered[1].wave == 2


def test_namespace_moves_into_presync_for_a_hook_in_it() -> None:
    steps = [
        step("", "Namespace", "shop"),
        step("batch", "Job", "migrate", "shop", phase=Phase.PRE_SYNC, action=Action.HOOK),
    ]
    ordered = order(steps)
    assert names(ordered) == ["Namespace/shop", "Job/migrate"]
    assert ordered[0].phase is Phase.PRE_SYNC


def test_crd_moves_ahead_of_its_custom_resources() -> None:
    steps = [
        crd("example.com", "Widget", wave=3),
        step("example.com", "Widget", "w", "shop", wave=1),
        step("example.com", "Gadget", "g", "shop", wave=-1),
    ]
    assert names(order(steps)) == [
        "Gadget/g",
        "CustomResourceDefinition/widgets.example.com",
        "Widget/w",
    ]


def test_an_earlier_namespace_is_not_moved_later() -> None:
    steps = [step("", "Namespace", "shop", wave=-2), step("", "ConfigMap", "c", "shop", wave=4)]
    assert order(steps)[0].wave == -2


def test_prunes_come_last_in_reverse() -> None:
    steps = [
        step("", "Namespace", "old", action=Action.PRUNE, wave=0),
        step("apps", "Deployment", "web", "old", action=Action.PRUNE, wave=0),
        step("", "ConfigMap", "late", "old", action=Action.PRUNE, wave=3),
        step("", "ConfigMap", "keep", "old", action=Action.KEEP),
        step("", "ConfigMap", "new", "old"),
    ]
    assert names(order(steps)) == [
        "ConfigMap/new",
        "ConfigMap/late",
        "Deployment/web",
        "ConfigMap/keep",
        "Namespace/old",
    ]


# ---------------------------------------------------------------- properties

NAMESPACES = ("a", "b", "c")
KINDS = (
    ("", "ConfigMap"),
    ("apps", "Deployment"),
    ("", "Service"),
    ("example.com", "Widget"),
    ("example.com", "Gadget"),
    ("", "Secret"),
)


@st.composite
def plans(draw: st.DrawFn) -> list[Step]:
    steps: dict[ResourceKey, Step] = {}
    for ns in draw(st.sets(st.sampled_from(NAMESPACES))):
        s = step("", "Namespace", ns, wave=draw(st.integers(-3, 3)))
        steps[s.key] = s
    for group, kind in draw(st.sets(st.sampled_from(KINDS[3:5]))):
        s = crd(group, kind, wave=draw(st.integers(-3, 3)))
        steps[s.key] = s
    for _ in range(draw(st.integers(0, 12))):
        group, kind = draw(st.sampled_from(KINDS))
        hook = draw(st.booleans())
        s = step(
            group,
            kind,
            draw(st.sampled_from(["x", "y", "z"])),
            draw(st.sampled_from(NAMESPACES)),
            wave=draw(st.integers(-3, 3)),
            phase=draw(st.sampled_from(list(Phase))) if hook else Phase.SYNC,
            action=Action.HOOK if hook else draw(st.sampled_from([Action.CREATE, Action.PRUNE])),
        )
        steps[s.key] = s
    return list(steps.values())


def position(steps: tuple[Step, ...], key: ResourceKey) -> int:
    return next(i for i, s in enumerate(steps) if s.key == key)


@settings(max_examples=200, deadline=None)
@given(plan=plans(), data=st.data())
def test_input_order_never_changes_the_output(plan: list[Step], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(plan))
    assert order(shuffled) == order(plan)


@settings(max_examples=200, deadline=None)
@given(plan=plans())
def test_namespaces_come_before_the_objects_in_them(plan: list[Step]) -> None:
    ordered = order(plan)
    applied = [s for s in ordered if s.action in (Action.CREATE, Action.HOOK)]
    for s in applied:
        ns_key = ResourceKey("", "Namespace", "", s.key.namespace)
        if s.key.namespace and any(o.key == ns_key for o in plan):
            assert position(ordered, ns_key) < position(ordered, s.key)


@settings(max_examples=200, deadline=None)
@given(plan=plans())
def test_crds_come_before_their_custom_resources(plan: list[Step]) -> None:
    ordered = order(plan)
    for s in ordered:
        if s.key.group != "example.com" or s.action is Action.PRUNE:
            continue
        crd_key = ResourceKey(
            CRD_GROUP, "CustomResourceDefinition", "", f"{s.key.kind.lower()}s.example.com"
        )
        if any(o.key == crd_key for o in plan):
            assert position(ordered, crd_key) < position(ordered, s.key)


@settings(max_examples=200, deadline=None)
@given(plan=plans())
def test_applied_steps_are_sorted_by_the_comparator(plan: list[Step]) -> None:
    applied = [s for s in order(plan) if s.action not in (Action.PRUNE, Action.KEEP)]
    assert applied == sorted(applied, key=sort_key)
