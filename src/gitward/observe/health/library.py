"""A library of CEL health rules for operators' kinds, compiled once and shared.

The rules come from files (gitward's bundled library, then an install's own folder),
read by :mod:`gitward.healthrules`; this module only compiles and looks them up, so it
stays pure. A rule whose expression does not compile is left out and reported as a
:class:`RuleError` naming its file and line; every other rule still loads, because one
typo must not switch off the health checks of every other kind.

A rule's group may be a pattern, ``*.upbound.io``, and its kind ``*`` (every kind of
the group): Crossplane providers define hundreds of managed kinds that all follow the
same conventions. An exact group and kind wins over a pattern.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gitward.errors import ConfigError
from gitward.model import GroupKind, HealthRule
from gitward.observe.health.rules import CompiledRule, compile_rule, new_env


@dataclass(frozen=True)
class HealthSettings:
    no_status_grace: float = 600.0  # seconds a known kind may wait for its controller
    max_message: int = 2000  # characters of a health message kept


@dataclass(frozen=True)
class LibraryRule:
    """One kind's rule as read from a rule file.

    ``source`` tells people where a verdict came from (``bundled`` or ``install``);
    ``expects_status`` is False for kinds whose controller never writes a status, so that
    an object without one is not "waiting for its controller".
    """

    rule: HealthRule
    source: str = "bundled"
    expects_status: bool = True

    @property
    def name(self) -> str:
        """``bundled cert-manager.io/Certificate``: the ``rule`` column of `gitward health`."""
        return f"{self.source} {GroupKind(self.rule.group, self.rule.kind)}"


@dataclass(frozen=True)
class RuleError:
    """A rule (or a whole rule file) that could not be loaded, and where to fix it."""

    where: str  # file or file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class CompiledLibraryRule:
    entry: LibraryRule
    compiled: CompiledRule


class HealthLibrary:
    """Compiled rules by group and kind; later rules for the same kind replace earlier ones.

    Load order is therefore precedence: bundled first, then the install's folder.
    """

    def __init__(
        self,
        rules: Iterable[LibraryRule] = (),
        errors: Iterable[RuleError] = (),
        settings: HealthSettings | None = None,
    ) -> None:
        self.settings = settings or HealthSettings()  # the install's defaults for evaluators
        env = None
        self._exact: dict[GroupKind, CompiledLibraryRule] = {}
        self._patterns: dict[GroupKind, CompiledLibraryRule] = {}
        found = list(errors)
        for entry in rules:
            env = env or new_env()
            try:
                compiled = CompiledLibraryRule(entry, compile_rule(env, entry.rule))
            except ConfigError as e:
                found.append(RuleError("", e.message))
                continue
            key = GroupKind(entry.rule.group, entry.rule.kind)
            table = self._patterns if _is_pattern(key) else self._exact
            table[key] = compiled
        self.errors: tuple[RuleError, ...] = tuple(found)
        self._memo: dict[GroupKind, CompiledLibraryRule | None] = {}

    def lookup(self, gk: GroupKind) -> CompiledLibraryRule | None:
        """The rule for ``gk``: exact, then ``group/*``, then a group pattern."""
        if gk not in self._memo:
            self._memo[gk] = self._exact.get(gk) or self._match(gk)
        return self._memo[gk]

    def _match(self, gk: GroupKind) -> CompiledLibraryRule | None:
        any_kind = self._patterns.get(GroupKind(gk.group, "*"))
        if any_kind is not None:
            return any_kind
        for kind in (gk.kind, "*"):  # a named kind before every kind of the group
            for key, compiled in self._patterns.items():
                if key.kind == kind and _group_matches(key.group, gk.group):
                    return compiled
        return None

    @property
    def rules(self) -> Mapping[GroupKind, LibraryRule]:
        """Every loaded rule by group and kind (patterns included), for listings and docs."""
        both = {**self._exact, **self._patterns}
        return {k: v.entry for k, v in sorted(both.items())}


def _is_pattern(gk: GroupKind) -> bool:
    return gk.kind == "*" or gk.group.startswith("*.")


def _group_matches(pattern: str, group: str) -> bool:
    if pattern.startswith("*."):
        return group.endswith(pattern[1:])
    return pattern == group
