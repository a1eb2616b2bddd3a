"""Which objects an admission policy applies to: resource rules and label selectors.

Kubernetes matches an admission request by group, version and *resource* (the plural),
and by label selectors on the object and its namespace. Offline there is no request,
so every rendered object is treated as a CREATE of itself: its resource comes from a
:class:`~gitward.policy.catalog.Catalog`, and a namespace's labels are those of the
Namespace object in the same set, or the ``kubernetes.io/metadata.name`` label that
Kubernetes sets on every namespace. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitward.errors import InvalidPolicyError

OPERATIONS = frozenset({"CREATE", "UPDATE", "*"})  # what a sync does to an object


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Selector:
    """A Kubernetes label selector; the empty selector matches everything."""

    labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.labels):
            return False
        return all(_requirement(r, labels) for r in self.expressions)


def _requirement(r: Requirement, labels: Mapping[str, str]) -> bool:
    if r.operator == "In":
        return r.key in labels and labels[r.key] in r.values
    if r.operator == "NotIn":
        return r.key not in labels or labels[r.key] not in r.values
    if r.operator == "Exists":
        return r.key in labels
    return r.key not in labels  # DoesNotExist


@dataclass(frozen=True)
class ResourceRule:
    groups: tuple[str, ...] = ("*",)
    versions: tuple[str, ...] = ("*",)
    resources: tuple[str, ...] = ("*",)
    operations: tuple[str, ...] = ("*",)
    scope: str = "*"  # *, Cluster or Namespaced
    names: tuple[str, ...] = ()

    def matches(self, target: Target) -> bool:
        return (
            _listed(self.groups, target.group)
            and _listed(self.versions, target.version)
            and any(_resource(r, target.resource) for r in self.resources)
            and bool(OPERATIONS & set(self.operations))
            and self.scope in ("*", "Namespaced" if target.namespaced else "Cluster")
            and (not self.names or target.name in self.names)
        )


def _listed(values: Sequence[str], value: str) -> bool:
    return "*" in values or value in values


def _resource(pattern: str, resource: str) -> bool:
    """``deployments``, ``*`` and ``*/*`` match; subresource rules (``pods/status``) never."""
    main, _, sub = pattern.partition("/")
    if sub and sub != "*":
        return False
    return main in ("*", resource)


@dataclass(frozen=True)
class Match:
    """``matchConstraints`` of a policy or ``matchResources`` of a binding."""

    rules: tuple[ResourceRule, ...] | None = None  # None: not given (the binding's default)
    exclude: tuple[ResourceRule, ...] = ()
    namespaces: Selector = Selector()
    objects: Selector = Selector()

    def matches(self, target: Target) -> bool:
        if self.rules is not None and not any(r.matches(target) for r in self.rules):
            return False
        if any(r.matches(target) for r in self.exclude):
            return False
        if not self.objects.matches(target.labels):
            return False
        if target.namespaced:
            return self.namespaces.matches(target.namespace_labels)
        if target.kind == "Namespace" and target.group == "":
            return self.namespaces.matches(target.labels)
        return True


@dataclass(frozen=True)
class Target:
    """An object as an admission request would describe it."""

    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    namespace: str
    name: str
    labels: Mapping[str, str]
    namespace_labels: Mapping[str, str]


def parse_selector(data: Any, where: str) -> Selector:
    if data is None:
        return Selector()
    if not isinstance(data, Mapping):
        raise InvalidPolicyError(f"{where} must be a label selector mapping")
    labels = data.get("matchLabels") or {}
    expressions = []
    for item in data.get("matchExpressions") or []:
        operator = str(item.get("operator", ""))
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise InvalidPolicyError(f"{where}: unknown selector operator {operator!r}")
        values = tuple(str(v) for v in item.get("values") or ())
        expressions.append(Requirement(str(item.get("key", "")), operator, values))
    return Selector(tuple(sorted((str(k), str(v)) for k, v in labels.items())), tuple(expressions))


def parse_rules(data: Any, where: str) -> tuple[ResourceRule, ...]:
    if not isinstance(data, list):
        raise InvalidPolicyError(f"{where} must be a list of resource rules")
    rules = []
    for item in data:
        if not isinstance(item, Mapping):
            raise InvalidPolicyError(f"{where}: each resource rule must be a mapping")

        def strings(key: str, default: tuple[str, ...], rule: Mapping[str, Any] = item) -> Any:
            value = rule.get(key)
            return tuple(str(v) for v in value) if isinstance(value, list) else default

        rules.append(
            ResourceRule(
                groups=strings("apiGroups", ("*",)),
                versions=strings("apiVersions", ("*",)),
                resources=strings("resources", ()),
                operations=strings("operations", ("*",)),
                scope=str(item.get("scope") or "*"),
                names=strings("resourceNames", ()),
            )
        )
    return tuple(rules)


def parse_match(data: Any, where: str) -> Match:
    if data is None:
        return Match()
    if not isinstance(data, Mapping):
        raise InvalidPolicyError(f"{where} must be a mapping")
    rules = data.get("resourceRules")
    return Match(
        rules=parse_rules(rules, f"{where}.resourceRules") if rules is not None else None,
        exclude=parse_rules(
            data.get("excludeResourceRules") or [], f"{where}.excludeResourceRules"
        ),
        namespaces=parse_selector(data.get("namespaceSelector"), f"{where}.namespaceSelector"),
        objects=parse_selector(data.get("objectSelector"), f"{where}.objectSelector"),
    )
