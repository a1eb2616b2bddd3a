"""The Resources tree's pure parts: nesting by owner uid, grouping, state lines.

No cluster nor browser: the browser test (test_app_tree.py) shows one real Deployment's
ReplicaSet and Pods; these check what it cannot reach case by case: a level above the
grouping threshold, owner references that loop, objects owned by something else.
"""

from __future__ import annotations

from typing import Any

from gitward.ui.details import ObjectView
from gitward.ui.tree import Child, Level, TreeNode, _owned, summary, tree


def view(kind: str, name: str, uid: str = "", owners: tuple[str, ...] = ()) -> ObjectView:
    return ObjectView(
        key=f"{kind} ns/{name}",
        kind=kind,
        namespace="ns",
        name=name,
        action="Unchanged",
        wave=0,
        owners=owners,
        uid=uid,
    )


def child(kind: str, name: str, owner: str) -> Child:
    return Child(kind, "ns", name, uid=f"uid-{name}", owner=owner, status="", ready=True)


def names(level: Level) -> list[str]:
    return [n.obj.name for n in level.nodes]


def only(level: Level) -> TreeNode:
    [node] = level.nodes
    return node


def test_a_deployments_replicaset_and_pods_nest_under_it_by_uid() -> None:
    web, cm = view("Deployment", "web", uid="uid-web"), view("ConfigMap", "conf")
    made = [
        child("ReplicaSet", "web-1", owner="uid-web"),
        child("Pod", "web-1-a", owner="uid-web-1"),
        child("Pod", "web-1-b", owner="uid-web-1"),
        child("Pod", "other-x", owner="uid-someone-else"),  # not the app's: left out
    ]
    top = tree([web, cm], made)
    assert names(top) == ["web", "conf"]
    replicaset = only(top.nodes[0].below)
    assert replicaset.obj.name == "web-1"
    assert names(replicaset.below) == ["web-1-a", "web-1-b"]
    assert top.nodes[1].below == Level()


def test_above_the_threshold_a_level_is_grouped_by_kind_and_nothing_is_dropped() -> None:
    made = [child("Pod", f"web-1-{i:02}", owner="uid-web") for i in range(60)]
    made.append(child("ReplicaSet", "web-2", owner="uid-web"))
    top = tree([view("Deployment", "web", uid="uid-web")], made, group_above=50)
    below = only(top).below
    assert below.nodes == ()
    assert [(g.kind, len(g.nodes)) for g in below.groups] == [("Pod", 60), ("ReplicaSet", 1)]
    small = tree([view("Deployment", "web", uid="uid-web")], made[:50], group_above=50)
    assert len(only(small).below.nodes) == 50
    assert only(small).below.groups == ()


def test_objects_owned_among_the_apps_own_and_a_loop_show_each_once() -> None:
    parent = view("Parent", "p")
    kid = view("Kid", "k", owners=("Parent/ns/p",))
    a, b = view("A", "a", owners=("B/ns/b",)), view("B", "b", owners=("A/ns/a",))
    top = tree([parent, kid, a, b])
    assert names(top)[0] == "p"
    assert names(only(Level(top.nodes[:1])).below) == ["k"]
    assert sorted(names(top)[1:]) == ["a", "b"]  # the loop: both shown, at the top


def pod(phase: str, ready: list[bool], owner: str = "uid-rs") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "uid": "uid-p",
            "ownerReferences": [{"uid": owner, "kind": "ReplicaSet", "name": "rs"}],
        },
        "status": {"phase": phase, "containerStatuses": [{"ready": r} for r in ready]},
    }


def test_state_lines_say_how_many_are_ready() -> None:
    assert summary("Pod", pod("Running", [True, True])) == ("Running, 2/2 ready", True)
    assert summary("Pod", pod("Running", [True, False])) == ("Running, 1/2 ready", False)
    assert summary("Pod", pod("Pending", [])) == ("Pending, 0/0 ready", False)
    replicaset = {"spec": {"replicas": 3}, "status": {"readyReplicas": 1}}
    assert summary("ReplicaSet", replicaset) == ("1/3 ready", False)
    assert summary("ReplicaSet", {"spec": {"replicas": 0}}) == ("scaled to 0", True)
    assert summary("Job", {"status": {"succeeded": 1}}) == ("1 succeeded, 0 failed", True)


def test_only_objects_owned_by_a_known_uid_are_taken() -> None:
    found = _owned(
        [pod("Running", [True]), pod("Running", [True], owner="uid-x")], "Pod", ["uid-rs"]
    )
    assert [(c.name, c.owner, c.status) for c in found] == [("p", "uid-rs", "Running, 1/1 ready")]
