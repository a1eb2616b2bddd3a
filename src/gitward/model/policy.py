"""Policy verdicts: which rule an object breaks, and whether that stops the sync.

The policy stage (:mod:`gitward.policy`) turns rendered objects into a :class:`Verdict`;
the pipeline refuses a sync whose verdict has a ``deny`` violation and records ``warn``
ones. The same values are printed by ``gitward validate``, stored in history and served
by the API, so a violation reads the same wherever it is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from gitward.model.resource import ResourceKey, SourceLocation


class PolicyMode(StrEnum):
    """What a violation does: ``deny`` refuses the sync, ``warn`` only records it."""

    DENY = "deny"
    WARN = "warn"


class PolicyKind(StrEnum):
    """Where a violation comes from, for reports that group them."""

    REGO = "rego"
    CEL = "cel"  # a ValidatingAdmissionPolicy
    PROJECT = "project"  # an AppProject's rules
    SCHEMA = "schema"  # the Kubernetes OpenAPI schema of the kind


@dataclass(frozen=True)
class Violation:
    """One broken rule on one object (``key`` is None for a rule on the app itself).

    ``policy`` names the policy as its author wrote it (a Rego package, a
    ValidatingAdmissionPolicy's name, ``AppProject/<name>``, ``schema``); ``rule`` names
    the rule inside it (``deny_latest``, ``validations[0]``, ``clusterResourceWhitelist``,
    the JSON path of an invalid field).
    """

    key: ResourceKey | None
    policy: str
    rule: str
    message: str
    mode: PolicyMode = PolicyMode.DENY
    kind: PolicyKind = PolicyKind.REGO
    source: SourceLocation | None = field(default=None, compare=False)

    @property
    def subject(self) -> str:
        return str(self.key) if self.key is not None else "application"

    def to_data(self) -> dict[str, str | None]:
        """The violation as JSON for outputs, the API and history."""
        return {
            "object": str(self.key) if self.key else None,
            "policy": self.policy,
            "rule": self.rule,
            "message": self.message,
            "mode": self.mode.value,
            "kind": self.kind.value,
            "source": str(self.source) if self.source else None,
        }

    def __str__(self) -> str:
        return f"{self.subject}: {self.message} ({self.mode}: {self.policy} {self.rule})"


@dataclass(frozen=True)
class Verdict:
    """Every violation found for one app at one revision, sorted for stable output."""

    violations: tuple[Violation, ...] = ()

    @classmethod
    def of(cls, violations: Iterable[Violation]) -> Verdict:
        return cls(tuple(sorted(set(violations), key=_sort_key)))

    def __add__(self, other: Verdict) -> Verdict:
        return Verdict.of((*self.violations, *other.violations))

    @property
    def denials(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.mode is PolicyMode.DENY)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.mode is PolicyMode.WARN)

    @property
    def denied(self) -> bool:
        """True when the sync must be refused: at least one ``deny`` violation."""
        return bool(self.denials)

    def summary(self) -> str:
        """One line for a sync record: the count and the first denial (or warning)."""
        if not self.violations:
            return "no policy violations"
        first = (self.denials or self.warnings)[0]
        counts = f"{len(self.denials)} denied, {len(self.warnings)} warning(s)"
        return f"policy: {counts}; first: {first}"


def _sort_key(v: Violation) -> tuple[int, str, str, str, str]:
    key = v.key
    subject = "" if key is None else f"{key.group}/{key.kind}/{key.namespace}/{key.name}"
    return (0 if v.mode is PolicyMode.DENY else 1, subject, v.policy, v.rule, v.message)
