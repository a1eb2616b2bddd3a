"""An app with ``spec.targets`` becomes one app instance per (app, cluster) pair.

Before: the declarations (apps and clusters, :mod:`gitward.spec`). After: ``serve`` hands
the instances to the controller with the other apps; each is reconciled, recorded in
history and shown on its own, and is owned by its app (``owner: Application/<app>``),
so a pair that disappears (a cluster relabelled, removed, or a target edited) is
removed and pruned per the app's policy.

Every cluster, in name order, takes the first target that matches it (Fleet's rule for
``targetCustomizations``): by ``clusterName``, or by ``clusterSelector`` over its
labels. Selectors see declared clusters only; ``clusterName: in-cluster`` names the
controller's own. The instance is named ``<app>.<cluster>``, valid as a store key, in
API paths, in the inventory ConfigMap name and as the ``gitward.dev/app`` label value.
App names may hold dots too (Argo CD's ``example.guestbook``), so two pairs, or a pair
and a plain app, can meet on one name: the later one is refused as a problem. A pair longer
than 63 characters (the label limit) is shortened with a hash of both names, stable
across restarts. A target that matches nothing, or names an unknown cluster, is a
problem reported on the app (API and ``/readyz``), never a silent no-op.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitward.model import AppSpec, Destination, HelmOptions
from gitward.model.fleet import Target
from gitward.spec.clusters import ClusterSpec

IN_CLUSTER = "in-cluster"
MAX_NAME = 63


@dataclass(frozen=True)
class Placement:
    """One (app, cluster) pair: the instance and the target that chose it."""

    app: str
    cluster: str
    instance: str
    target: int  # index into the app's targets


@dataclass(frozen=True)
class Expansion:
    apps: dict[str, AppSpec] = field(default_factory=dict)  # plain apps and instances
    placements: dict[str, tuple[Placement, ...]] = field(default_factory=dict)  # per app
    problems: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per app


def instance_name(app: str, cluster: str) -> str:
    """``<app>.<cluster>``, or a shortened form with a stable hash when too long."""
    name = f"{app}.{cluster}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    room = MAX_NAME - len(digest) - 2  # "." and "-"
    head = app[: room // 2].rstrip("-")
    tail = cluster[: room - len(head)].rstrip("-.")
    return f"{head}.{tail}-{digest}"


def expand(apps: Mapping[str, AppSpec], clusters: Mapping[str, ClusterSpec]) -> Expansion:
    """Every declared app as is, except targeted ones: one instance per matching cluster."""
    result = Expansion()
    for name, app in apps.items():
        if not app.targets:
            result.apps[name] = app
            continue
        placements, problems = place(app, clusters)
        kept = []
        for p in placements:
            if p.instance in apps or p.instance in result.apps:  # dotted names can meet
                problems += (
                    f"instance {p.instance!r} on {p.cluster!r}: another app has "
                    "that name; rename the app or the cluster",
                )
                continue
            kept.append(p)
            result.apps[p.instance] = instance(app, p, apps)
        result.placements[name] = tuple(kept)
        if problems:
            result.problems[name] = problems
    return result


def place(
    app: AppSpec, clusters: Mapping[str, ClusterSpec]
) -> tuple[tuple[Placement, ...], tuple[str, ...]]:
    """Which clusters ``app`` goes to, and what is wrong with its targets."""
    placements: list[Placement] = []
    hits = [0] * len(app.targets)
    names = sorted(clusters)
    if any(t.cluster_name == IN_CLUSTER for t in app.targets):
        names = [IN_CLUSTER, *names]
    for cluster in names:
        labels = dict(clusters[cluster].labels) if cluster in clusters else {}
        for index, target in enumerate(app.targets):
            if _matches(target, cluster, labels):
                hits[index] += 1
                placements.append(
                    Placement(app.name, cluster, instance_name(app.name, cluster), index)
                )
                break
    problems = [_problem(t, i, clusters) for i, t in enumerate(app.targets) if not hits[i]]
    if not placements:
        problems.append("no target matches any cluster: the app is deployed nowhere")
    return tuple(placements), tuple(problems)


def _matches(target: Target, cluster: str, labels: Mapping[str, str]) -> bool:
    if target.cluster_name is not None:
        return target.cluster_name == cluster
    return cluster != IN_CLUSTER and target.selector is not None and target.selector.matches(labels)


def _problem(target: Target, index: int, clusters: Mapping[str, ClusterSpec]) -> str:
    name = target.cluster_name
    if name is not None and name != IN_CLUSTER and name not in clusters:
        known = ", ".join(sorted(clusters)) or "none"
        return f"{target.describe(index)}: no such cluster is declared (known: {known})"
    if name is not None:
        return f"{target.describe(index)}: an earlier target already takes that cluster"
    selector = target.selector
    if selector is not None and any(selector.matches(dict(c.labels)) for c in clusters.values()):
        return f"{target.describe(index)}: every cluster it matches is taken by an earlier target"
    return f"{target.describe(index)}: matches no cluster"


def instance(app: AppSpec, placement: Placement, apps: Mapping[str, AppSpec]) -> AppSpec:
    """The app as deployed to one cluster, with its target's customisation."""
    target = app.targets[placement.target]
    source = app.source
    if target.kustomize_dir:
        source = dataclasses.replace(
            source, path=posixpath.normpath(posixpath.join(source.path, target.kustomize_dir))
        )
    if target.helm_values:
        helm = source.helm or HelmOptions()
        merged = merge_values(helm.values, target.helm_values)
        source = dataclasses.replace(source, helm=dataclasses.replace(helm, values=merged))
    destination = Destination(
        name=placement.cluster,
        namespace=target.namespace or app.destination.namespace,
    )
    depends_on = tuple(
        instance_name(d, placement.cluster) if d in apps and apps[d].targets else d
        for d in app.depends_on
    )
    return dataclasses.replace(
        app,
        name=placement.instance,
        source=source,
        destination=destination,
        depends_on=depends_on,
        owner=f"Application/{app.name}",
        targets=(),
    )


def merge_values(base: str | None, over: str) -> str:
    """Helm values ``over`` merged into ``base`` (both YAML mappings), as Helm merges
    several values files: mappings merge key by key, anything else is replaced."""
    loaded = yaml.safe_load(base) if base else None
    merged = _deep_merge(loaded if isinstance(loaded, dict) else {}, yaml.safe_load(over) or {})
    return yaml.safe_dump(merged, sort_keys=True)


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result
