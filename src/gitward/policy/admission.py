"""Kubernetes ``ValidatingAdmissionPolicy`` and its bindings, read offline.

The same documents a cluster enforces at admission are parsed here into values that
:mod:`gitward.policy.cel` compiles and evaluates, so CI runs them before merge. As in
Kubernetes, a binding selects which policy applies where and what happens on failure
(``validationActions``: ``Deny`` refuses, ``Warn``/``Audit`` record). One deliberate
difference: a policy that no binding names is applied as if bound with ``Deny`` to
what its ``matchConstraints`` select, because offline nobody would notice an unbound
policy doing nothing. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import InvalidPolicyError
from gitward.model.policy import PolicyMode
from gitward.policy.match import Match, Selector, parse_match, parse_selector

ADMISSION_GROUP = "admissionregistration.k8s.io"
API_VERSIONS = tuple(f"{ADMISSION_GROUP}/{v}" for v in ("v1", "v1beta1", "v1alpha1"))
POLICY_KIND = "ValidatingAdmissionPolicy"
BINDING_KIND = "ValidatingAdmissionPolicyBinding"


@dataclass(frozen=True)
class Validation:
    expression: str
    message: str | None = None
    message_expression: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AdmissionPolicy:
    name: str
    origin: str
    validations: tuple[Validation, ...]
    match: Match = field(default_factory=Match)
    match_conditions: tuple[tuple[str, str], ...] = ()  # (name, expression)
    variables: tuple[tuple[str, str], ...] = ()  # (name, expression), in order
    param_kind: tuple[str, str] | None = None  # (apiVersion, kind)
    fail_closed: bool = True  # failurePolicy Fail: an expression error is a violation


@dataclass(frozen=True)
class ParamRef:
    name: str | None = None
    namespace: str | None = None
    selector: Selector | None = None
    deny_when_missing: bool = True  # parameterNotFoundAction: Deny


@dataclass(frozen=True)
class Binding:
    name: str
    origin: str
    policy: str
    mode: PolicyMode
    match: Match = field(default_factory=Match)
    param_ref: ParamRef | None = None


def is_admission(doc: Mapping[str, Any]) -> bool:
    return doc.get("apiVersion") in API_VERSIONS and doc.get("kind") in (POLICY_KIND, BINDING_KIND)


def parse_policy(doc: Mapping[str, Any], origin: str) -> AdmissionPolicy:
    name = _name(doc, origin)
    spec = _mapping(doc.get("spec"), f"{origin}: {POLICY_KIND} {name}: spec")
    where = f"{origin}: {POLICY_KIND} {name}: spec"
    validations = tuple(
        _validation(v, f"{where}.validations[{i}]")
        for i, v in enumerate(_list(spec.get("validations"), f"{where}.validations"))
    )
    if not validations:
        raise InvalidPolicyError(f"{where}.validations is empty: the policy checks nothing")
    param_kind = spec.get("paramKind")
    failure = spec.get("failurePolicy", "Fail")
    if failure not in ("Fail", "Ignore"):
        raise InvalidPolicyError(f"{where}.failurePolicy must be Fail or Ignore, not {failure!r}")
    return AdmissionPolicy(
        name=name,
        origin=origin,
        validations=validations,
        match=parse_match(spec.get("matchConstraints"), f"{where}.matchConstraints"),
        match_conditions=_named(spec.get("matchConditions"), f"{where}.matchConditions"),
        variables=_named(spec.get("variables"), f"{where}.variables"),
        param_kind=(str(param_kind.get("apiVersion", "")), str(param_kind.get("kind", "")))
        if isinstance(param_kind, Mapping)
        else None,
        fail_closed=failure == "Fail",
    )


def parse_binding(doc: Mapping[str, Any], origin: str) -> Binding:
    name = _name(doc, origin)
    where = f"{origin}: {BINDING_KIND} {name}: spec"
    spec = _mapping(doc.get("spec"), where)
    policy = spec.get("policyName")
    if not isinstance(policy, str) or not policy:
        raise InvalidPolicyError(f"{where}.policyName is required")
    actions = [str(a) for a in _list(spec.get("validationActions"), f"{where}.validationActions")]
    unknown = set(actions) - {"Deny", "Warn", "Audit"}
    if not actions or unknown:
        raise InvalidPolicyError(
            f"{where}.validationActions must list Deny, Warn or Audit, got {actions or 'none'}"
        )
    return Binding(
        name=name,
        origin=origin,
        policy=policy,
        mode=PolicyMode.DENY if "Deny" in actions else PolicyMode.WARN,
        match=parse_match(spec.get("matchResources"), f"{where}.matchResources"),
        param_ref=_param_ref(spec.get("paramRef"), f"{where}.paramRef"),
    )


def implicit_binding(policy: AdmissionPolicy) -> Binding:
    """The binding an unbound policy gets offline: Deny, no extra match rules."""
    return Binding(f"{policy.name} (implicit)", policy.origin, policy.name, PolicyMode.DENY)


def _param_ref(data: Any, where: str) -> ParamRef | None:
    if data is None:
        return None
    ref = _mapping(data, where)
    action = ref.get("parameterNotFoundAction", "Deny")
    if action not in ("Allow", "Deny"):
        raise InvalidPolicyError(f"{where}.parameterNotFoundAction must be Allow or Deny")
    selector = ref.get("selector")
    return ParamRef(
        name=str(ref["name"]) if ref.get("name") else None,
        namespace=str(ref["namespace"]) if ref.get("namespace") else None,
        selector=parse_selector(selector, f"{where}.selector") if selector is not None else None,
        deny_when_missing=action == "Deny",
    )


def _validation(data: Any, where: str) -> Validation:
    item = _mapping(data, where)
    expression = item.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidPolicyError(f"{where}.expression is required")
    return Validation(
        expression,
        _optional_str(item.get("message")),
        _optional_str(item.get("messageExpression")),
        _optional_str(item.get("reason")),
    )


def _named(data: Any, where: str) -> tuple[tuple[str, str], ...]:
    result = []
    for i, item in enumerate(_list(data, where)):
        entry = _mapping(item, f"{where}[{i}]")
        name, expression = entry.get("name"), entry.get("expression")
        if not isinstance(name, str) or not isinstance(expression, str):
            raise InvalidPolicyError(f"{where}[{i}] needs a name and an expression")
        result.append((name, expression))
    return tuple(result)


def _name(doc: Mapping[str, Any], origin: str) -> str:
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise InvalidPolicyError(f"{origin}: {doc.get('kind')} without metadata.name")
    return name


def _mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidPolicyError(f"{where} must be a mapping")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidPolicyError(f"{where} must be a list")
    return data


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
