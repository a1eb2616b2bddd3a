"""Evaluate ValidatingAdmissionPolicies with CEL, offline, the way the API server would.

Every rendered object is treated as the CREATE request that would bring it into the
cluster: ``object`` is the object, ``oldObject`` is null, ``request`` carries the kind,
resource, name, namespace and operation, ``params`` the parameter object a binding
refers to, ``namespaceObject`` the object's Namespace (from the same set when it is
there), and ``variables`` the policy's variables evaluated in order. Expressions are
compiled once, when the policies are loaded, so a typo is one error naming the file
and the field. The environment has CEL's standard library with the strings, math,
encoders and optional extensions; ``authorizer`` checks need a live cluster and are
refused at load. Pure: cel-expr-python evaluates in process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_encoders, ext_math, ext_optional, ext_strings

from gitward.errors import InvalidPolicyError
from gitward.model import JsonObject, Resource, split_api_version
from gitward.model.policy import PolicyKind, Violation
from gitward.policy.admission import POLICY_KIND, AdmissionPolicy, Binding, Validation
from gitward.policy.catalog import Catalog
from gitward.policy.match import Target

_VARIABLES = (
    "object",
    "oldObject",
    "params",
    "request",
    "namespaceObject",
)


def _env() -> cel.Env:
    variables = dict.fromkeys(_VARIABLES, cel.Type.DYN)
    variables["variables"] = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
    return cel.NewEnv(
        variables=variables,
        extensions=[
            ext_strings.ExtStrings(),
            ext_math.ExtMath(),
            ext_encoders.ExtEncoders(),
            ext_optional.ExtOptional(),
        ],
    )


@dataclass(frozen=True)
class _Check:
    index: int
    validation: Validation
    expression: cel.Expression
    message: cel.Expression | None


@dataclass(frozen=True)
class CompiledPolicy:
    policy: AdmissionPolicy
    conditions: tuple[tuple[str, cel.Expression], ...]
    variables: tuple[tuple[str, cel.Expression], ...]
    checks: tuple[_Check, ...]


def compile_policy(policy: AdmissionPolicy, env: cel.Env | None = None) -> CompiledPolicy:
    env = env or _env()
    where = f"{policy.origin}: {POLICY_KIND} {policy.name}: spec"

    def build(source: str, field: str) -> cel.Expression:
        if "authorizer" in source:
            raise InvalidPolicyError(
                f"{where}.{field} uses authorizer, which needs a live cluster",
                hint="offline evaluation supports object, oldObject, params, request, "
                "namespaceObject and variables",
            )
        try:
            return env.compile(source)
        except RuntimeError as e:
            raise InvalidPolicyError(f"{where}.{field}: CEL does not compile: {e}") from e

    return CompiledPolicy(
        policy,
        tuple(
            (name, build(src, f"matchConditions[{i}].expression"))
            for i, (name, src) in enumerate(policy.match_conditions)
        ),
        tuple(
            (name, build(src, f"variables[{i}].expression"))
            for i, (name, src) in enumerate(policy.variables)
        ),
        tuple(
            _Check(
                i,
                v,
                build(v.expression, f"validations[{i}].expression"),
                build(v.message_expression, f"validations[{i}].messageExpression")
                if v.message_expression
                else None,
            )
            for i, v in enumerate(policy.validations)
        ),
    )


class _ExpressionError(Exception):
    """A CEL expression failed on one object (a missing field, a wrong type)."""


def _eval(expression: cel.Expression, data: Mapping[str, Any]) -> Any:
    result = expression.eval(data=data)
    if result.type() == cel.Type.ERROR:
        raise _ExpressionError(str(result.value()))
    return result.plain_value()


@dataclass(frozen=True)
class Request:
    """One object as the admission request that would create it."""

    resource: Resource
    target: Target
    data: Mapping[str, Any]


def request_for(
    resource: Resource, catalog: Catalog, default_namespace: str, namespaces: Mapping[str, Resource]
) -> Request:
    """The request data and match target of ``resource`` (see the module docstring)."""
    key = resource.key
    group, version = split_api_version(resource.api_version)
    namespaced = catalog.namespaced(key.group_kind)
    if namespaced is None:
        namespaced = bool(key.namespace)
    namespace = (key.namespace or default_namespace) if namespaced else ""
    plural = catalog.plural(key.group, key.kind)
    ns_object: JsonObject | None = None
    ns_labels: Mapping[str, str] = {}
    if namespaced:
        found = namespaces.get(namespace)
        ns_object = found.body if found else _namespace(namespace)
        labels = (ns_object.get("metadata") or {}).get("labels") or {}
        ns_labels = {"kubernetes.io/metadata.name": namespace, **labels}
    target = Target(
        group,
        version,
        key.kind,
        plural,
        namespaced,
        namespace,
        key.name,
        resource.labels,
        ns_labels,
    )
    request = {
        "kind": {"group": group, "version": version, "kind": key.kind},
        "resource": {"group": group, "version": version, "resource": plural},
        "name": key.name,
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "gitward"},
        "dryRun": False,
    }
    data = {
        "object": resource.body,
        "oldObject": None,
        "request": request,
        "namespaceObject": ns_object,
    }
    return Request(resource, target, data)


def _namespace(name: str) -> JsonObject:
    """A Namespace not in the set: as Kubernetes creates it, with its name label."""
    labels = {"kubernetes.io/metadata.name": name}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def evaluate(
    compiled: CompiledPolicy, binding: Binding, request: Request, params: Sequence[Any]
) -> list[Violation]:
    """The violations of one bound policy on one object, for each parameter object."""
    found: list[Violation] = []
    for param in params:
        data = {**request.data, "params": param, "variables": {}}
        try:
            if not all(_eval(e, data) is True for _, e in compiled.conditions):
                continue
            data["variables"] = _variables(compiled, data)
        except _ExpressionError as e:
            if compiled.policy.fail_closed:
                found.append(_violation(compiled, binding, request, "matchConditions", str(e)))
            continue
        for check in compiled.checks:
            message = _check(check, data, compiled.policy.fail_closed)
            if message is not None:
                found.append(
                    _violation(compiled, binding, request, f"validations[{check.index}]", message)
                )
    return found


def _variables(compiled: CompiledPolicy, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, expression in compiled.variables:
        try:
            values[name] = _eval(expression, {**data, "variables": values})
        except _ExpressionError:
            continue  # an expression that uses it fails with "no such key", and says so
    return values


def _check(check: _Check, data: Mapping[str, Any], fail_closed: bool) -> str | None:
    """The message when the validation fails, None when it passes (or fails open)."""
    try:
        passed = _eval(check.expression, data)
    except _ExpressionError as e:
        if not fail_closed:
            return None
        return f"expression {check.validation.expression!r} failed: {e}"
    if passed is True:
        return None
    if check.message is not None:
        try:
            text = _eval(check.message, data)
        except _ExpressionError:
            text = None
        if isinstance(text, str) and text.strip() and "\n" not in text:
            return text
    return check.validation.message or f"failed expression: {check.validation.expression}"


def _violation(
    compiled: CompiledPolicy, binding: Binding, request: Request, rule: str, message: str
) -> Violation:
    resource = request.resource
    return Violation(
        resource.key,
        compiled.policy.name,
        rule,
        message,
        binding.mode,
        PolicyKind.CEL,
        resource.source,
    )


def new_env() -> cel.Env:
    return _env()
