"""Semantic versions and ranges, to pick the highest tag that satisfies a range.

An Application may ask for ``targetRevision: ^1.2``; the source stage lists the
repository's tags, reads those that look like versions (with or without a leading
``v``, partial versions such as ``1.2`` padded with zeros) and keeps the highest one
the range allows. The range syntax is the one Argo CD and Flux users already write
(the npm / Masterminds dialect):

* comparators ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, joined by spaces or commas
  (all must hold) and alternatives joined by ``||``;
* ``^1.2.3`` (same major; same minor below 1.0), ``~1.2.3`` (same minor);
* wildcards ``1.2.x``, ``1.*``, ``*`` and bare partial versions ``1.2``;
* hyphen ranges ``1.2 - 1.4``.

Pre-releases (``1.3.0-rc.1``) only match an alternative that names a pre-release
itself, so ``^1.2`` never silently moves a cluster onto a release candidate.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

# Numbers are capped at 30 digits: a tag or range with thousands of digits would make
# int() raise (Python refuses over 4300 digits) and is no version anyone releases.
_VERSION = re.compile(
    r"^[vV]?(?P<major>0|[1-9]\d{0,29})(?:\.(?P<minor>0|[1-9]\d{0,29}))?"
    r"(?:\.(?P<patch>0|[1-9]\d{0,29}))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_PARTIAL = re.compile(
    r"^[vV]?(?P<major>\d{1,30}|[xX*])(?:\.(?P<minor>\d{1,30}|[xX*]))?"
    r"(?:\.(?P<patch>\d{1,30}|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op>\^|~>?|>=|<=|!=|=|>|<)?\s*(?P<version>\S+)$")
_WILD = ("x", "X", "*")


MAX_TEXT = 256  # characters of a tag or range considered at all


def _number(text: str) -> bool:
    """A numeric identifier (ASCII digits only: str.isdigit() also accepts "²")."""
    return text.isascii() and text.isdigit()


class RangeError(ValueError):
    """The text is not a semver range."""


@total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version; ordering follows semver 2.0 precedence (build is ignored)."""

    major: int
    minor: int = 0
    patch: int = 0
    pre: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version | None:
        """The version a tag names, or None if it names none."""
        if len(text) > MAX_TEXT:
            return None
        m = _VERSION.match(text.strip())
        if m is None:
            return None
        pre = tuple(m.group("pre").split(".")) if m.group("pre") else ()
        return cls(
            int(m.group("major")), int(m.group("minor") or 0), int(m.group("patch") or 0), pre
        )

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        ids = tuple((0, int(p), "") if _number(p) else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, ids)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.pre)}" if self.pre else core


@dataclass(frozen=True)
class Comparator:
    op: str  # one of = != > >= < <=
    version: Version

    def allows(self, v: Version) -> bool:
        c = self.version
        return {
            "=": v == c,
            "!=": v != c,
            ">": v > c,
            ">=": v >= c,
            "<": v < c,
            "<=": v <= c,
        }[self.op]


@dataclass(frozen=True)
class Range:
    """Alternatives of comparators: a version matches if all of one alternative allow it."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def allows(self, v: Version) -> bool:
        for group in self.alternatives:
            if v.pre and not any(c.version.pre for c in group):
                continue
            if all(c.allows(v) for c in group):
                return True
        return False

    def best(self, tags: Iterable[str]) -> str | None:
        """The tag naming the highest allowed version (ties: the shortest, then first by name)."""
        found: list[tuple[Version, int, str]] = []
        for tag in tags:
            version = Version.parse(tag)
            if version is not None and self.allows(version):
                found.append((version, len(tag), tag))
        if not found:
            return None
        top = max(v for v, _, _ in found)
        return min((n, t) for v, n, t in found if v == top)[1]


def parse_range(text: str) -> Range:
    """Parse a semver range; raise :class:`RangeError` if ``text`` is not one."""
    if len(text) > MAX_TEXT:
        raise RangeError(f"a range of {len(text)} characters is too long")
    alternatives = []
    for alternative in text.split("||"):
        alternatives.append(_parse_alternative(alternative.strip()))
    return Range(text, tuple(alternatives))


def _parse_alternative(text: str) -> tuple[Comparator, ...]:
    if not text:
        raise RangeError("empty range")
    hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", text)
    if hyphen:
        return (*_expand(">=", hyphen.group(1)), *_expand("<=", hyphen.group(2)))
    tokens = [t for t in re.split(r"[\s,]+", text) if t]
    merged: list[str] = []
    for token in tokens:  # allow ">= 1.2" as well as ">=1.2"
        if merged and re.fullmatch(r"\^|~>?|>=|<=|!=|=|>|<", merged[-1]):
            merged[-1] += token
        else:
            merged.append(token)
    comparators: list[Comparator] = []
    for token in merged:
        m = _COMPARATOR.match(token)
        if m is None:
            raise RangeError(f"{token!r} is not a comparator")
        comparators.extend(_expand(m.group("op") or "", m.group("version")))
    return tuple(comparators)


def _expand(op: str, text: str) -> tuple[Comparator, ...]:
    """Turn one operator and a possibly partial version into plain comparators."""
    m = _PARTIAL.match(text)
    if m is None:
        raise RangeError(f"{text!r} is not a version")
    parts = [m.group("major"), m.group("minor"), m.group("patch")]
    given = 0
    for part in parts:
        if part is None or part in _WILD:
            break
        given += 1
    nums = [int(p) if i < given and p is not None else 0 for i, p in enumerate(parts)]
    pre = tuple(m.group("pre").split(".")) if m.group("pre") and given == 3 else ()
    low = Version(nums[0], nums[1], nums[2], pre)
    if given == 0:
        return () if op in ("", "=", ">=", "<=", "^", "~", "~>") else (Comparator("<", low),)
    up = _bump(nums, given)
    if op in ("", "="):
        return (
            (Comparator("=", low),) if given == 3 else (Comparator(">=", low), Comparator("<", up))
        )
    return _expand_op(op, low, up, nums, given)


def _expand_op(
    op: str, low: Version, up: Version, nums: list[int], given: int
) -> tuple[Comparator, ...]:
    if op == "^":
        first = next((i for i, n in enumerate(nums[:given]) if n != 0), given - 1)
        return (Comparator(">=", low), Comparator("<", _bump(nums, first + 1)))
    if op in ("~", "~>"):
        return (Comparator(">=", low), Comparator("<", _bump(nums, min(given, 2))))
    if given == 3:
        return (Comparator(op, low),)
    if op == ">":
        return (Comparator(">=", up),)
    if op == "<=":
        return (Comparator("<", up),)
    if op == "!=":
        raise RangeError(f"!= needs a full version, not {low}")  # a gap is not one comparator
    return (Comparator(op, low),)


def _bump(nums: list[int], position: int) -> Version:
    """The first version after every version that shares the first ``position`` numbers."""
    if position <= 0:
        return Version(nums[0] + 1)
    if position == 1:
        return Version(nums[0] + 1, 0, 0)
    if position == 2:
        return Version(nums[0], nums[1] + 1, 0)
    return Version(nums[0], nums[1], nums[2] + 1)
