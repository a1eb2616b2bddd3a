"""Custom health checks written in CEL (:class:`HealthRule`), compiled once per evaluator.

Each rule names a group and kind and up to three boolean expressions over ``object`` (the
whole live object as a map), tried in the order healthy, degraded, progressing; the
first that is true decides. When none is true the built-in check decides, so a rule may
say only what the built-in check gets wrong ("degraded when .status.phase is Crashed").
An expression that fails at run time (a missing field without ``has()``, a non-bool
result) makes the object Unknown with the error, because guessing would hide a broken
rule. An expression that does not compile is a :class:`ConfigError` when the evaluator
is built, so a typo surfaces once, at load, not on every object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# cel-expr-python ships .pyi stubs but no py.typed marker, so mypy skips them unless told to.
from cel_expr_python import cel

from gitward.errors import ConfigError
from gitward.model import GroupKind, Health, HealthRule, HealthStatus

_ORDER = (
    ("healthy", HealthStatus.HEALTHY),
    ("degraded", HealthStatus.DEGRADED),
    ("progressing", HealthStatus.PROGRESSING),
)


class RuleEvaluationError(Exception):
    """A CEL expression failed on one object; becomes an Unknown health, never escapes."""


@dataclass(frozen=True)
class CompiledRule:
    rule: HealthRule
    checks: tuple[tuple[HealthStatus, str, cel.Expression], ...]
    message: cel.Expression | None


def compile_rules(rules: Sequence[HealthRule]) -> dict[GroupKind, CompiledRule]:
    """Compile every rule in one CEL environment; the last rule for a kind wins."""
    env = cel.NewEnv(variables={"object": cel.Type.Map(cel.Type.STRING, cel.Type.DYN)})
    compiled: dict[GroupKind, CompiledRule] = {}
    for rule in rules:
        checks = tuple(
            (status, source, _compile(env, rule, source))
            for field, status in _ORDER
            if (source := getattr(rule, field)) is not None
        )
        message = _compile(env, rule, rule.message) if rule.message else None
        compiled[GroupKind(rule.group, rule.kind)] = CompiledRule(rule, checks, message)
    return compiled


def _compile(env: cel.Env, rule: HealthRule, source: str) -> cel.Expression:
    try:
        return env.compile(source)
    except RuntimeError as e:
        raise ConfigError(
            f"health rule for {GroupKind(rule.group, rule.kind)}: CEL expression {source!r} "
            f"does not compile: {e}",
            hint="fix the expression in the application's health rules",
        ) from e


def evaluate(rule: CompiledRule, obj: Mapping[str, Any]) -> Health | None:
    """The rule's verdict, None when no expression is true, Unknown when one fails."""
    data = {"object": obj}
    try:
        for status, source, expression in rule.checks:
            if _boolean(expression, source, data):
                return Health(status, _message(rule, data))
    except RuleEvaluationError as e:
        return Health(HealthStatus.UNKNOWN, str(e))
    return None


def _boolean(expression: cel.Expression, source: str, data: Mapping[str, Any]) -> bool:
    result = expression.eval(data=data)
    kind = result.type()
    if kind == cel.Type.ERROR:
        raise RuleEvaluationError(f"health rule {source!r} failed: {result.value()}")
    if kind != cel.Type.BOOL:
        raise RuleEvaluationError(f"health rule {source!r} returned {kind.name()}, not a bool")
    return bool(result.value())


def _message(rule: CompiledRule, data: Mapping[str, Any]) -> str:
    if rule.message is None:
        return "decided by a health rule"
    result = rule.message.eval(data=data)
    if result.type() == cel.Type.ERROR:
        return f"health rule message failed: {result.value()}"
    return str(result.value())
