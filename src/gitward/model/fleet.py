"""Targets and rollouts: which clusters an app goes to, customised how, in what order.

Field names follow Rancher Fleet where it has them (``clusterName``,
``clusterSelector`` with Kubernetes' ``matchLabels``/``matchExpressions``, per-target
``helm.values``, ``kustomize.dir``, ``namespace``); parsing is in
:mod:`gitward.spec.targets`, the expansion into one app instance per (app, cluster)
pair in :mod:`gitward.fleet.targets`, and the rollout decision in
:mod:`gitward.fleet.rollout`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitward.model.selectors import Requirement, Selector

# One selector type for targets, rollout stages and the ApplicationSet generator.
ClusterSelector = Selector
LabelRequirement = Requirement


@dataclass(frozen=True)
class Target:
    """One entry of ``spec.targets``: clusters by name or selector, and their
    customisation. A cluster takes the first target that matches it."""

    name: str = ""
    cluster_name: str | None = None
    selector: ClusterSelector | None = None
    namespace: str | None = None  # over destination.namespace
    helm_values: str | None = None  # YAML of a mapping, merged over source.helm.values
    kustomize_dir: str | None = None  # relative to source.path: the overlay to build

    def describe(self, index: int) -> str:
        label = f"targets[{index}]" + (f" ({self.name})" if self.name else "")
        if self.cluster_name is not None:
            return f"{label} clusterName {self.cluster_name!r}"
        return f"{label} clusterSelector {self.selector}"


@dataclass(frozen=True)
class RolloutStage:
    name: str
    selector: ClusterSelector


@dataclass(frozen=True)
class Rollout:
    """Ordered stages: a commit lands on stage N+1 only once stage N is Healthy at it;
    at most ``max_unavailable`` clusters of a stage take it at a time."""

    stages: tuple[RolloutStage, ...]
    max_unavailable: int = 1
