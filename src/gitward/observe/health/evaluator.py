"""One object's health and the rule that decided it: the chain every surface shares.

The engine (waits and final health), the controller and ``gitward health`` all call
:meth:`HealthEvaluator.explain`, so a verdict offline is the verdict in a sync. The
chain, first verdict wins:

1. the application's own ``healthChecks`` for the kind (an override beats everything);
2. the library rule for the kind (an install's folder, else the bundled library). Before
   its expressions run: a ``status`` that is not a map is Unknown; an object being
   deleted is Progressing; **an object without status is Progressing, "waiting for its
   controller"**, and Degraded once older than ``no_status_grace`` (no operator is
   running for it, most likely); a status of an older generation is Progressing;
3. the built-in check of a Kubernetes kind (Deployment, Pod, APIService...);
4. the generic conventions (kstatus, Crossplane's Synced/Ready, Ready/Available).

A rule or check that would raise on a malformed object yields Unknown with the error
instead: one bad object must never stop the health of the others. Messages longer than
``max_message`` characters are cut, with a note saying so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitward.model import GroupKind, Health, HealthRule, HealthStatus, split_api_version
from gitward.observe.health import generic, rules
from gitward.observe.health.builtin import CHECKS
from gitward.observe.health.conditions import generation_lag, section
from gitward.observe.health.library import CompiledLibraryRule, HealthLibrary, HealthSettings
from gitward.ports import Clock

GENERIC = "generic"


@dataclass(frozen=True)
class Verdict:
    health: Health
    rule: str  # "app healthChecks cert-manager.io/Certificate", "bundled ...", "generic"


def group_kind_of(obj: Mapping[str, Any]) -> GroupKind:
    group, _ = split_api_version(str(obj.get("apiVersion", "")))
    return GroupKind(group, str(obj.get("kind", "")))


class HealthEvaluator:
    """Health checks with an app's rules and a rule library, all compiled once.

    Keep one per app and call :meth:`health_of` (or :meth:`explain`) for every object.
    The app's CEL programs compile in the constructor, which raises ConfigError for a bad
    one; the library compiles each rule once, on first use, and is shared; and brings the
    install's :class:`HealthSettings` unless ``settings`` are given. Without a ``clock``,
    an object waiting for its controller stays Progressing.
    """

    def __init__(
        self,
        health_rules: Sequence[HealthRule] = (),
        library: HealthLibrary | None = None,
        *,
        clock: Clock | None = None,
        settings: HealthSettings | None = None,
    ) -> None:
        self._rules = rules.compile_rules(health_rules)
        self._library = library or HealthLibrary()
        self._clock = clock
        self._settings = settings or self._library.settings

    def health_of(self, obj: Mapping[str, Any]) -> Health:
        return self.explain(obj).health

    def explain(self, obj: Mapping[str, Any]) -> Verdict:
        """The health of ``obj`` and the name of the rule that decided it."""
        try:
            verdict = self._decide(obj, group_kind_of(obj))
        except Exception as e:
            verdict = Verdict(Health(HealthStatus.UNKNOWN, f"health check failed: {e!r}"), GENERIC)
        return _truncated(verdict, self._settings.max_message)

    def _decide(self, obj: Mapping[str, Any], gk: GroupKind) -> Verdict:
        own = self._rules.get(gk)
        if own is not None:
            health = rules.evaluate(own, obj)
            if health is not None:
                return Verdict(health, f"app healthChecks {gk}")
        found = self._library.lookup(gk)
        if found is not None:
            health = self._library_health(found, obj)
            if health is not None:
                return Verdict(health, found.entry.name)
        status = obj.get("status")
        if status is not None and not isinstance(status, Mapping):
            return Verdict(generic.malformed_status(status), GENERIC)
        check = CHECKS.get(gk)
        if check is not None:
            return Verdict(check(obj), f"built-in {gk}")
        return Verdict(generic.generic(obj), GENERIC)

    def _library_health(self, found: CompiledLibraryRule, obj: Mapping[str, Any]) -> Health | None:
        status = obj.get("status")
        if status is not None and not isinstance(status, Mapping):
            return generic.malformed_status(status)
        if section(obj, "metadata").get("deletionTimestamp"):
            return Health(HealthStatus.PROGRESSING, "being deleted")
        if not status and found.entry.expects_status:
            return self._waiting(obj)
        lag = generation_lag(obj)
        if lag:
            return Health(HealthStatus.PROGRESSING, lag)
        if found.compiled is None:  # compiled on first use, and it does not compile
            return Health(HealthStatus.UNKNOWN, found.error)
        return rules.evaluate(found.compiled, obj)

    def _waiting(self, obj: Mapping[str, Any]) -> Health:
        """No status yet: normal just after creation, a missing operator after a while."""
        age = self._age(obj)
        grace = self._settings.no_status_grace
        if age is not None and age > grace:
            return Health(
                HealthStatus.DEGRADED,
                f"no controller has reported on this object for {_duration(age)}: "
                "is its operator installed and running?",
            )
        return Health(HealthStatus.PROGRESSING, "waiting for its controller: no status yet")

    def _age(self, obj: Mapping[str, Any]) -> float | None:
        created = section(obj, "metadata").get("creationTimestamp")
        if self._clock is None or not created:
            return None
        try:
            when = (
                created
                if isinstance(created, dt.datetime)
                else dt.datetime.fromisoformat(str(created))
            )
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return self._clock.wall() - when.timestamp()


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _truncated(verdict: Verdict, limit: int) -> Verdict:
    message = verdict.health.message
    if len(message) <= limit:
        return verdict
    note = f" … [message truncated: {len(message) - limit} more characters]"
    return Verdict(Health(verdict.health.status, message[:limit] + note), verdict.rule)
