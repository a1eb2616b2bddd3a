"""Kubernetes label selectors (``matchLabels`` and ``matchExpressions``), matched against
a label mapping. Fleet targets and rollout stages choose clusters with them, and so does
the ApplicationSet ``clusters`` generator: one definition, one meaning."""

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
class Requirement:
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
class Selector:
    """Kubernetes label selector semantics: every rule must hold; empty matches all."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(
            r.matches(labels) for r in self.match_expressions
        )

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def __str__(self) -> str:
        rules = [f"{k}={v}" for k, v in self.match_labels]
        for r in self.match_expressions:
            shown = f" {r.operator.value} ({','.join(r.values)})" if r.values else ""
            prefix = "!" if r.operator is Operator.DOES_NOT_EXIST else ""
            rules.append(f"{prefix}{r.key}{shown}" if r.operator is not Operator.EXISTS else r.key)
        return ",".join(rules) or "(all clusters)"
