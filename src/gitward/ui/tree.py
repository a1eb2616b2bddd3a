"""The Resources tab's tree: the app's objects, and what its workloads made in the cluster.

Before: the look holds the app's objects with their live bodies (so their uids), and the
engine's cluster connection (:class:`~gitward.ports.Cluster`) can list objects. Git
holds a Deployment; the cluster also holds the ReplicaSets it made and their Pods,
which Git never names. After: ``_resources.html`` shows one tree, Deployment →
ReplicaSet → Pod, built from ``ownerReferences``.

Only the kinds the built-in controllers create are listed (:data:`CREATES`), in the
namespaces of the app's workloads, level by level: nothing is listed for an app without
workloads. A level holding more than ``group_above`` nodes is grouped by kind, each
group collapsed with its count, so an app of a thousand objects stays readable. A list
the cluster refuses (e.g. RBAC) is named as a problem; the rest of the tree is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import GitwardError
from gitward.model import JsonObject
from gitward.ports import Cluster
from gitward.ui.details import ObjectView

# (group, kind) a workload kind's controller creates, owned by the workload
CREATES: Mapping[str, tuple[str, str]] = {
    "Deployment": ("apps", "ReplicaSet"),
    "ReplicaSet": ("", "Pod"),
    "StatefulSet": ("", "Pod"),
    "DaemonSet": ("", "Pod"),
    "Job": ("", "Pod"),
    "CronJob": ("batch", "Job"),
}
LEVELS = 3  # CronJob → Job → Pod, Deployment → ReplicaSet → Pod
MAX_CHILDREN = 5_000  # a bound on what one page lists; the rest is counted, not shown


@dataclass(frozen=True)
class Child:
    """An object a workload of the app created; not in Git, never synced by gitward."""

    kind: str
    namespace: str
    name: str
    uid: str
    owner: str  # the uid of its owner
    status: str  # e.g. "Running, 1/1 ready", "2/2 ready"
    ready: bool


@dataclass(frozen=True)
class Children:
    found: tuple[Child, ...] = ()
    problems: tuple[str, ...] = ()
    left_out: int = 0  # beyond MAX_CHILDREN


async def children_of(cluster: Cluster, objects: Sequence[ObjectView]) -> Children:
    """What the app's workloads created, level by level, matched by owner uid."""
    frontier = {o.uid: (o.kind, o.namespace) for o in objects if o.uid and o.kind in CREATES}
    listed: dict[tuple[str, str, str], list[JsonObject]] = {}
    found: list[Child] = []
    problems: list[str] = []
    for _ in range(LEVELS):
        if not frontier:
            break
        wanted = {(*CREATES[kind], ns) for kind, ns in frontier.values()}
        for group, kind, ns in sorted(wanted - listed.keys()):
            try:
                listed[(group, kind, ns)] = await cluster.list(group, kind, namespace=ns or None)
            except GitwardError as e:
                listed[(group, kind, ns)] = []
                problems.append(f"the {kind}s in {ns or 'the cluster'} could not be listed: {e}")
        level = [c for key in wanted for c in _owned(listed[key], key[1], frontier.keys())]
        found += level
        frontier = {c.uid: (c.kind, c.namespace) for c in level if c.kind in CREATES}
    found.sort(key=lambda c: (c.kind, c.name))
    return Children(tuple(found[:MAX_CHILDREN]), tuple(problems), max(0, len(found) - MAX_CHILDREN))


def _owned(items: Iterable[Mapping[str, Any]], kind: str, owners: Iterable[str]) -> list[Child]:
    uids = set(owners)
    out = []
    for item in items:
        meta = item.get("metadata") or {}
        owner = next(
            (str(r.get("uid")) for r in meta.get("ownerReferences") or [] if r.get("uid") in uids),
            None,
        )
        if owner is not None:
            status, ready = summary(kind, item)
            out.append(
                Child(
                    kind=kind,
                    namespace=str(meta.get("namespace") or ""),
                    name=str(meta.get("name") or ""),
                    uid=str(meta.get("uid") or ""),
                    owner=owner,
                    status=status,
                    ready=ready,
                )
            )
    return out


def summary(kind: str, item: Mapping[str, Any]) -> tuple[str, bool]:
    """A line about the object's state, and whether it is ready."""
    status = item.get("status") or {}
    if kind == "Pod":
        containers = status.get("containerStatuses") or []
        ready = sum(1 for c in containers if c.get("ready"))
        phase = str(status.get("phase") or "Pending")
        ok = phase == "Succeeded" or (phase == "Running" and ready == len(containers))
        return f"{phase}, {ready}/{len(containers)} ready", ok
    if kind == "ReplicaSet":
        want = int((item.get("spec") or {}).get("replicas") or 0)
        ready = int(status.get("readyReplicas") or 0)
        return (f"{ready}/{want} ready" if want else "scaled to 0"), ready >= want
    if kind == "Job":
        done, failed = int(status.get("succeeded") or 0), int(status.get("failed") or 0)
        return f"{done} succeeded, {failed} failed", failed == 0
    return "", True


# ---------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Level:
    nodes: tuple[TreeNode, ...] = ()  # shown one by one
    groups: tuple[Group, ...] = ()  # above group_above nodes: by kind, each collapsed


@dataclass(frozen=True)
class TreeNode:
    obj: ObjectView | Child
    below: Level = field(default_factory=Level)


@dataclass(frozen=True)
class Group:
    kind: str
    nodes: tuple[TreeNode, ...]


def tree(
    objects: Sequence[ObjectView], children: Sequence[Child] = (), group_above: int = 50
) -> Level:
    """Objects nested under their owners: the app's by ``ownerReferences`` among
    themselves, the created ones by owner uid. Objects without an owner here are roots."""
    by_short = {_short(o): o for o in objects}
    below: dict[str, list[ObjectView | Child]] = {}  # parent's uid or short key -> children
    roots: list[ObjectView | Child] = []
    for o in objects:
        parent = next((p for p in o.owners if p in by_short), None)
        if parent is None:
            roots.append(o)
        else:
            below.setdefault(parent, []).append(o)
    for c in children:
        below.setdefault(c.owner, []).append(c)

    placed: set[int] = set()  # each object once, even if owner references loop

    def level(items: Sequence[ObjectView | Child]) -> Level:
        items = [i for i in items if id(i) not in placed]
        placed.update(id(i) for i in items)
        nodes = tuple(TreeNode(i, level(_below(i, below))) for i in items)
        if len(nodes) <= group_above:
            return Level(nodes=nodes)
        kinds: dict[str, list[TreeNode]] = {}
        for n in nodes:
            kinds.setdefault(n.obj.kind, []).append(n)
        return Level(groups=tuple(Group(k, tuple(v)) for k, v in sorted(kinds.items())))

    top = level(roots)
    looped = [o for o in objects if id(o) not in placed]  # owners only among themselves
    return top if not looped else _merge(top, level(looped))


def _merge(a: Level, b: Level) -> Level:
    return Level(nodes=a.nodes + b.nodes, groups=a.groups + b.groups)


def _below(
    o: ObjectView | Child, below: Mapping[str, list[ObjectView | Child]]
) -> list[ObjectView | Child]:
    kids = list(below.get(o.uid, [])) if o.uid else []
    if isinstance(o, ObjectView):
        kids += below.get(_short(o), [])
    return kids


def _short(o: ObjectView) -> str:
    return f"{o.kind}/{o.namespace}/{o.name}"
