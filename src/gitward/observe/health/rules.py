"""Health checks written in CEL (:class:`HealthRule`), compiled once, evaluated cheaply.

A rule names a group and kind and up to four boolean expressions, tried in the order
**suspended, healthy, degraded, progressing**; the first that is true decides, and the
``message`` expression says why. When none is true the next check in line decides (see
:mod:`gitward.observe.health.evaluator`), so a rule may say only what the others get
wrong ("degraded when .status.phase is Crashed").

Expressions see ``object`` (the whole live object) and, for brevity, ``metadata``,
``spec`` and ``status`` (empty maps when absent or not maps) and ``conditions``: the
status conditions by type, each with ``status``, ``reason``, ``message``, ``text``
("Reason: message", else "Ready is True") and ``observedGeneration`` always present. CEL optionals
(``conditions.?Ready.status.orValue("")``) and the strings extension are enabled.

Cost: converting a Python map into CEL values dominates evaluation, so only the
variables an expression mentions are bound, and a rule's expressions are also compiled
into one program that yields status and message in a single evaluation. That program
is the fast path; when it fails (a runtime error in one expression) the expressions are
evaluated one by one to name the one that failed. An expression that fails makes the
object Unknown with the error, because guessing would hide a broken rule; one that does
not compile is a :class:`ConfigError` naming the file and line when the rule has them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from gitward.errors import ConfigError
from gitward.model import GroupKind, Health, HealthRule, HealthStatus
from gitward.observe.health.conditions import describe, number

ORDER = (
    ("suspended", HealthStatus.SUSPENDED),
    ("healthy", HealthStatus.HEALTHY),
    ("degraded", HealthStatus.DEGRADED),
    ("progressing", HealthStatus.PROGRESSING),
)
VARIABLES = ("object", "metadata", "spec", "status", "conditions")
# A variable is read where its name is not a field selection (``object.status`` reads
# ``object``, not ``status``).
_MENTION = re.compile(r"(?<![\w.?])(" + "|".join(VARIABLES) + r")\b")


class RuleEvaluationError(Exception):
    """A CEL expression failed on one object; becomes an Unknown health, never escapes."""


@dataclass(frozen=True)
class CompiledRule:
    rule: HealthRule
    checks: tuple[tuple[HealthStatus, str, cel.Expression], ...]
    message: cel.Expression | None
    fast: cel.Expression | None  # every check and the message in one program
    needs: frozenset[str]  # the variables the expressions read


def new_env() -> cel.Env:
    """The CEL environment every health rule is compiled in."""
    dyn_map = cel.Type.Map(cel.Type.STRING, cel.Type.DYN)
    return cel.NewEnv(
        variables=dict.fromkeys(VARIABLES, dyn_map),
        extensions=[ext_optional.ExtOptional(), ext_strings.ExtStrings()],
    )


def compile_rules(rules: Sequence[HealthRule]) -> dict[GroupKind, CompiledRule]:
    """Compile every rule in one CEL environment; the last rule for a kind wins."""
    if not rules:
        return {}
    env = new_env()
    return {GroupKind(rule.group, rule.kind): compile_rule(env, rule) for rule in rules}


def compile_rule(env: cel.Env, rule: HealthRule) -> CompiledRule:
    """Compile one rule; raises ConfigError naming the expression (and file:line if known)."""
    sources = [(status, field, src) for field, status in ORDER if (src := getattr(rule, field))]
    checks = tuple((status, src, _compile(env, rule, field, src)) for status, field, src in sources)
    message = _compile(env, rule, "message", rule.message) if rule.message else None
    every = [src for _, _, src in sources] + ([rule.message] if rule.message else [])
    needs = frozenset(m for src in every for m in _MENTION.findall(src))
    return CompiledRule(rule, checks, message, _fast(env, rule, sources), needs)


def _fast(env: cel.Env, rule: HealthRule, sources: list[tuple[HealthStatus, str, str]]) -> Any:
    """``c1 ? ["Suspended", msg] : c2 ? [...] : []`` — one evaluation per object."""
    result = "[]"
    tail = f", ({rule.message})" if rule.message else ""
    for status, _, src in reversed(sources):
        result = f'({src}) ? ["{status.value}"{tail}] : {result}'
    try:
        return env.compile(result)
    except RuntimeError:
        return None  # mixed result types, say: the expressions one by one still work


def _compile(env: cel.Env, rule: HealthRule, field: str, source: str) -> cel.Expression:
    try:
        return env.compile(source)
    except RuntimeError as e:
        where = _where(rule, field)
        raise ConfigError(
            f"{where}health rule for {GroupKind(rule.group, rule.kind)}: {field} expression "
            f"{source!r} does not compile: {e}",
            hint="fix the CEL expression (see docs/health.md)",
        ) from e


def _where(rule: HealthRule, field: str) -> str:
    if not rule.origin:
        return ""
    line = dict(rule.lines).get(field)
    return f"{rule.origin}:{line}: " if line else f"{rule.origin}: "


def bindings(obj: Mapping[str, Any], needs: frozenset[str]) -> dict[str, Any]:
    """The CEL variables ``needs`` names, built from ``obj`` (only those, for speed)."""
    data: dict[str, Any] = {}
    if "object" in needs:
        data["object"] = obj
    for name in ("metadata", "spec", "status"):
        if name in needs:
            value = obj.get(name)
            data[name] = value if isinstance(value, Mapping) else {}
    if "conditions" in needs:
        data["conditions"] = conditions_by_type(obj)
    return data


def conditions_by_type(obj: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Status conditions keyed by type, with every field a rule reads present."""
    status = obj.get("status")
    found = status.get("conditions") if isinstance(status, Mapping) else None
    result: dict[str, dict[str, Any]] = {}
    for cond in found if isinstance(found, list) else ():
        if isinstance(cond, Mapping) and isinstance(cond.get("type"), str):
            result[cond["type"]] = {
                "status": str(cond.get("status") or ""),
                "reason": str(cond.get("reason") or ""),
                "message": str(cond.get("message") or ""),
                "text": describe(cond) or f"{cond['type']} is {cond.get('status') or 'not set'}",
                "observedGeneration": number(cond, "observedGeneration"),
            }
    return result


def evaluate(rule: CompiledRule, obj: Mapping[str, Any]) -> Health | None:
    """The rule's verdict, None when no expression is true, Unknown when one fails."""
    try:
        data = bindings(obj, rule.needs)
        if rule.fast is not None:
            decided, health = _fast_verdict(rule.fast.eval(data=data))
            if decided:
                return health
        return _slow(rule, data)
    except RuleEvaluationError as e:
        return Health(HealthStatus.UNKNOWN, str(e))
    except (TypeError, ValueError, RuntimeError, OverflowError) as e:
        # Values CEL cannot represent (a YAML set, an int key, a huge integer).
        return Health(HealthStatus.UNKNOWN, f"health rule could not read the object: {e}")


def _fast_verdict(result: cel.Value) -> tuple[bool, Health | None]:
    """(True, verdict or None when no expression is true), or (False, None) to go slow."""
    if result.type() == cel.Type.ERROR:
        return False, None
    value = result.plain_value()
    if not isinstance(value, list):
        return False, None
    if not value:
        return True, None
    message = "decided by a health rule" if len(value) < 2 else str(value[1])
    return True, Health(HealthStatus(str(value[0])), message)


def _slow(rule: CompiledRule, data: Mapping[str, Any]) -> Health | None:
    for status, source, expression in rule.checks:
        if _boolean(expression, source, data):
            return Health(status, _message(rule, data))
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
