"""A library of CEL health rules for operators' kinds, compiled on first use and shared.

The rules come from files (gitward's bundled library, an install's folders, a folder of
the config repository), read by :mod:`gitward.healthrules`; this module only indexes,
compiles and looks them up, so it stays pure.

Cost: the bundled library holds over a hundred rules and a sync meets a handful of
kinds, so its rules are indexed by group and kind at load and each is compiled the
first time an object of its kind is judged, then kept. The bundled rules are compiled
all at once by a unit test instead, so a broken one fails CI, not a user's sync (were
one to break anyway, its kind's objects are Unknown with the compile error: guessing
would hide it). Rules a user supplies are few and compiled at load (:meth:`with_rules`),
so that a typo is reported at start naming its file and line, and left out: the rule
it would have replaced still applies, and every other rule still loads.

A rule's group may be a pattern, ``*.upbound.io``, and its kind ``*`` (every kind of
the group): Crossplane providers define hundreds of managed kinds that all follow the
same conventions. An exact group and kind wins over a pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cel_expr_python import cel

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

    ``source`` tells people where a verdict came from (``bundled``, ``install`` or
    ``config``); ``expects_status`` is False for kinds whose controller never writes a
    status, so that an object without one is not "waiting for its controller".
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
    """A rule ready to evaluate; ``compiled`` is None (and ``error`` says why) only for
    a lazily compiled rule that turned out not to compile."""

    entry: LibraryRule
    compiled: CompiledRule | None
    error: str = ""


class _Slot:
    """One rule and, once asked for, its compiled form (shared by every library built
    on the one that indexed it, so a rule compiles once per process)."""

    __slots__ = ("entry", "ready")

    def __init__(self, entry: LibraryRule, ready: CompiledLibraryRule | None = None) -> None:
        self.entry = entry
        self.ready = ready

    def get(self) -> CompiledLibraryRule:
        if self.ready is None:
            try:
                self.ready = CompiledLibraryRule(self.entry, compile_rule(_env(), self.entry.rule))
            except ConfigError as e:
                self.ready = CompiledLibraryRule(self.entry, None, e.message)
        return self.ready


@functools.cache
def _env() -> cel.Env:
    """One CEL environment for every library rule (building one costs ~1 ms)."""
    return new_env()


class HealthLibrary:
    """Rules by group and kind; later rules for the same kind replace earlier ones.

    Load order is therefore precedence: bundled first, then each install folder, then
    the config repository's (:meth:`with_rules` layers a set of rules over a library).
    ``lazy`` indexes the rules now and compiles each on first lookup.
    """

    def __init__(
        self,
        rules: Iterable[LibraryRule] = (),
        errors: Iterable[RuleError] = (),
        settings: HealthSettings | None = None,
        *,
        lazy: bool = False,
    ) -> None:
        self.settings = settings or HealthSettings()  # the install's defaults for evaluators
        self._exact: dict[GroupKind, _Slot] = {}
        self._patterns: dict[GroupKind, _Slot] = {}
        self._errors: list[RuleError] = []
        self._memo: dict[GroupKind, _Slot | None] = {}
        self._add(rules, errors, lazy=lazy)

    def with_rules(
        self, rules: Iterable[LibraryRule], errors: Iterable[RuleError] = ()
    ) -> HealthLibrary:
        """A new library: these rules (compiled now) over this one's, which is unchanged.

        A rule that does not compile is left out and reported in ``errors``; the rule it
        would have replaced stays in force.
        """
        layered = HealthLibrary(settings=self.settings)
        layered._exact = dict(self._exact)
        layered._patterns = dict(self._patterns)
        layered._errors = list(self._errors)
        layered._add(rules, errors, lazy=False)
        return layered

    def _add(
        self, rules: Iterable[LibraryRule], errors: Iterable[RuleError], *, lazy: bool
    ) -> None:
        self._errors += errors
        for entry in rules:
            slot = _Slot(entry)
            if not lazy and slot.get().compiled is None:
                self._errors.append(RuleError("", slot.get().error))
                continue
            key = GroupKind(entry.rule.group, entry.rule.kind)
            table = self._patterns if _is_pattern(key) else self._exact
            table[key] = slot

    @property
    def errors(self) -> tuple[RuleError, ...]:
        """Files and rules that did not load, and lazily compiled rules that failed."""
        failed = [
            RuleError("", s.ready.error)
            for s in (*self._exact.values(), *self._patterns.values())
            if s.ready is not None and s.ready.compiled is None
        ]
        return (*self._errors, *[e for e in failed if e not in self._errors])

    def lookup(self, gk: GroupKind) -> CompiledLibraryRule | None:
        """The rule for ``gk``: exact, then ``group/*``, then a group pattern."""
        if gk not in self._memo:
            self._memo[gk] = self._exact.get(gk) or self._match(gk)
        slot = self._memo[gk]
        return None if slot is None else slot.get()

    def compile_all(self) -> list[RuleError]:
        """Compile every rule now (the bundled library's unit test); the failures."""
        for slot in (*self._exact.values(), *self._patterns.values()):
            slot.get()
        return list(self.errors)

    def _match(self, gk: GroupKind) -> _Slot | None:
        any_kind = self._patterns.get(GroupKind(gk.group, "*"))
        if any_kind is not None:
            return any_kind
        for kind in (gk.kind, "*"):  # a named kind before every kind of the group
            for key, slot in self._patterns.items():
                if key.kind == kind and _group_matches(key.group, gk.group):
                    return slot
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
