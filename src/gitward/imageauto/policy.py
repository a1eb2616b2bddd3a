"""Which tag is the newest, by a policy: pure functions over a list of tags.

Before: the registry's tag list (:func:`gitward.source.oci.list_tags`), minus the
repository's exclusions. After: the selected tag is written into Git
(:mod:`.setters`). The rules are Flux's ImagePolicy:

* ``filterTags.pattern`` keeps the tags it matches (a search, not a full match);
  ``extract`` builds, from the match's groups (``$name``, ``${name}``, ``$1``), the
  value that is compared; the tag itself is what gets selected.
* ``semver``: the highest version the range allows (``v`` prefixes and partial
  versions accepted, pre-releases only when the range names one; see
  :mod:`gitward.source.semver`).
* ``alphabetical``: ``asc`` (default) picks the last value in byte order, ``desc`` the
  first. ``numerical``: the same over numbers; a value that is not a number is skipped.

Patterns are compiled by RE2 (linear time: a hostile pattern cannot stall the scan)
with Go's syntax, as Flux's are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import re2

from gitward.errors import ConfigError
from gitward.model.images import ImagePolicy, Order, PolicyKind, TagFilter
from gitward.source.semver import RangeError, Version, parse_range

_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\w+)|(\$))")
_Key = TypeVar("_Key", str, Decimal)


def compile_pattern(pattern: str, where: str) -> Any:
    """RE2 pattern, or a ConfigError naming ``where``."""
    try:
        return re2.compile(pattern)
    except re2.error as e:
        raise ConfigError(f"{where}: {pattern!r} is not a valid regular expression: {e}") from e


def expand(template: str, match: Any) -> str:
    """Go's ``Regexp.Expand``: ``$name``/``${name}``/``$1`` by group, ``$$`` is ``$``;
    an unknown group expands to nothing."""

    def one(ref: re.Match[str]) -> str:
        if ref.group(3):
            return "$"
        key = ref.group(1) or ref.group(2)
        try:
            value = match.group(int(key) if key.isdigit() else key)
        except (IndexError, KeyError, re2.error):
            return ""
        return value or ""

    return _REFERENCE.sub(one, template)


def excluded(tags: Iterable[str], patterns: Sequence[str], where: str) -> list[str]:
    """``tags`` without those any exclusion pattern matches (Flux's exclusionList)."""
    compiled = [compile_pattern(p, f"{where} exclusionList") for p in patterns]
    return [t for t in tags if not any(c.search(t) for c in compiled)]


def candidates(
    tags: Iterable[str], tag_filter: TagFilter | None, where: str
) -> list[tuple[str, str]]:
    """(tag, value to compare) for each tag the filter keeps."""
    if tag_filter is None:
        return [(t, t) for t in tags]
    pattern = compile_pattern(tag_filter.pattern, f"{where} filterTags.pattern")
    kept: list[tuple[str, str]] = []
    for tag in tags:
        match = pattern.search(tag)
        if match is not None:
            kept.append((tag, expand(tag_filter.extract, match) if tag_filter.extract else tag))
    return kept


def select(policy: ImagePolicy, tags: Iterable[str]) -> str | None:
    """The tag ``policy`` picks among ``tags``, or None when none qualifies."""
    where = f"ImagePolicy {policy.namespace}/{policy.name}"
    found = candidates(tags, policy.filter, where)
    if policy.kind is PolicyKind.SEMVER:
        return _semver(policy.semver_range, found, where)
    if policy.kind is PolicyKind.NUMERICAL:
        numbers = [(n, t) for t, v in found if (n := _number(v)) is not None]
        return _ordered(numbers, policy.order)
    return _ordered([(v, t) for t, v in found], policy.order)


def _semver(text: str, found: list[tuple[str, str]], where: str) -> str | None:
    try:
        allowed = parse_range(text)
    except RangeError as e:
        raise ConfigError(f"{where}: semver range {text!r} is not valid: {e}") from e
    versions: list[tuple[Version, int, str]] = []
    for tag, value in found:
        version = Version.parse(value)
        if version is not None and allowed.allows(version):
            versions.append((version, len(tag), tag))
    if not versions:
        return None
    top = max(v for v, _, _ in versions)
    return min((n, t) for v, n, t in versions if v == top)[1]


def _ordered(keyed: Sequence[tuple[_Key, str]], order: Order) -> str | None:
    """Highest key for ``asc``, lowest for ``desc``; ties go to the first tag by name."""
    if not keyed:
        return None
    pick = max if order is Order.ASC else min
    best = pick(k for k, _ in keyed)
    return min(t for k, t in keyed if k == best)


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
