"""Health of live objects: one pure function per kind, a rule library, CEL overrides.

:class:`HealthEvaluator` decides, in order: the app's own CEL ``healthChecks``, the
library rule for the kind (:mod:`.library`, rules read from files by
:mod:`gitward.healthrules`), the built-in check of a Kubernetes kind (``apps``, core,
``batch``, ``networking.k8s.io``, ``apiextensions.k8s.io``, ``apiregistration.k8s.io``),
and the generic conventions (:func:`generic.generic`: kstatus, Crossplane, Ready). The
order and its reasons are in :mod:`.evaluator`. Every result carries a message a person
can act on.

Before: live objects from the watch cache. After: the app's health is the worst of its
objects' (:func:`gitward.model.worst`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitward.model import Health, HealthRule
from gitward.observe.health import generic
from gitward.observe.health.builtin import CHECKS, Check
from gitward.observe.health.evaluator import HealthEvaluator, Verdict, group_kind_of
from gitward.observe.health.library import HealthLibrary, HealthSettings, LibraryRule, RuleError


def builtin_health(obj: Mapping[str, Any]) -> Health:
    """The built-in check for the object's kind, or the generic one (no rules at all)."""
    return CHECKS.get(group_kind_of(obj), generic.generic)(obj)


def health_of(obj: Mapping[str, Any], health_rules: Sequence[HealthRule] = ()) -> Health:
    """The health of one live object; with rules, prefer a :class:`HealthEvaluator`."""
    return HealthEvaluator(health_rules).health_of(obj)


__all__ = [
    "CHECKS",
    "Check",
    "HealthEvaluator",
    "HealthLibrary",
    "HealthSettings",
    "LibraryRule",
    "RuleError",
    "Verdict",
    "builtin_health",
    "group_kind_of",
    "health_of",
]
