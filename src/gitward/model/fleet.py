"""Targets and rollouts: which clusters an app goes to, customised how, in what order.

Field names follow Rancher Fleet where it has them (``clusterName``,
``clusterSelector`` with Kubernetes' ``matchLabels``/``matchExpressions``, per-target
``helm.values``, ``kustomize.dir``, ``namespace``); parsing is in
:mod:`gitward.spec.targets`, the expansion into one app instance per (app, cluster)
pair in :mod:`gitward.fleet.targets`, and the rollout decision in
:mod:`gitward.fleet.rollout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator is Operator.EXISTS:
            return self.key in labels
        if self.operator is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        inside = self.key in labels and labels[self.key] in self.values
        return inside if self.operator is Operator.IN else not inside


@dataclass(frozen=True)
class ClusterSelector:
    """Kubernetes label selector semantics: every rule must hold; empty matches all."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[LabelRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(
            r.matches(labels) for r in self.match_expressions
        )

    def __str__(self) -> str:
        rules = [f"{k}={v}" for k, v in self.match_labels]
        for r in self.match_expressions:
            shown = f" {r.operator.value} ({','.join(r.values)})" if r.values else ""
            prefix = "!" if r.operator is Operator.DOES_NOT_EXIST else ""
            rules.append(f"{prefix}{r.key}{shown}" if r.operator is not Operator.EXISTS else r.key)
        return ",".join(rules) or "(all clusters)"


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
