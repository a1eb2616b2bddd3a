"""Include/exclude globs of the directory renderer, with Argo CD's meaning.

An Argo CD ``directory.include`` or ``directory.exclude`` pattern is matched against a
file's path relative to the application directory, and it has no path separators:
``*`` matches any run of characters *including* ``/``, so ``*.yaml`` also selects
``sub/app.yaml`` when recursing. ``?`` matches one character, ``[abc]``/``[!abc]`` a
class (with ranges such as ``[a-z]``), and ``{a,b}`` any of its comma-separated
alternatives (which may nest and hold wildcards). Used by
:mod:`gitward.render.directory` only.

Globs come from Application documents, so they are hostile input. They are not turned
into regular expressions: a pattern such as ``*a*a*a*a*a*b`` makes a backtracking regex
engine take exponential time. A pattern is parsed into a few flat alternatives (braces
expanded, at most :data:`MAX_ALTERNATIVES`), and each is matched by the classic
wildcard algorithm that remembers only the last ``*``: time proportional to the pattern
length times the path length, whatever the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from gitward.errors import RenderError

MAX_ALTERNATIVES = 1024  # brace expansions of one pattern; {a,b}{c,d}... doubles each time
MAX_PATTERN = 4096  # characters
MAX_NESTING = 32  # braces within braces


class _Star:
    """``*``: any run of characters, ``/`` included."""


STAR = _Star()


@dataclass(frozen=True)
class _One:
    """One character: any (``?``), or one in (or, negated, not in) a set of ranges."""

    ranges: tuple[tuple[str, str], ...] = ()
    negate: bool = True  # the default, no ranges and negated, is ``?``: any character

    def matches(self, char: str) -> bool:
        inside = any(low <= char <= high for low, high in self.ranges)
        return inside != self.negate


_Token = str | _Star | _One  # a str is one literal character
_Flat = tuple[_Token, ...]


class _Parser:
    """A small recursive-descent reader of one glob into flat alternatives."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0
        self.depth = 0

    def fail(self, problem: str) -> RenderError:
        shown = self.pattern if len(self.pattern) <= 80 else f"{self.pattern[:77]}..."
        return RenderError(
            f"invalid glob {shown!r}: {problem}",
            hint="globs use *, ?, [abc] and {a,b} alternatives, as in Argo CD",
        )

    def sequence(self, in_braces: bool) -> list[_Flat]:
        """The alternatives of a run of the pattern, up to ``,`` or ``}`` in braces."""
        parts: list[list[_Flat]] = []
        while self.pos < len(self.pattern):
            char = self.pattern[self.pos]
            if in_braces and char in ",}":
                break
            self.pos += 1
            if char == "{":
                parts.append(self.alternatives())
                continue
            token: _Token = char
            if char == "*":
                token = STAR
            elif char == "?":
                token = _One()
            elif char == "[":
                token = self.char_class()
            elif char == "\\" and self.pos < len(self.pattern):
                token = self.pattern[self.pos]
                self.pos += 1
            parts.append([(token,)])
        return self._combine(parts)

    def _combine(self, parts: list[list[_Flat]]) -> list[_Flat]:
        count = 1
        for options in parts:
            count *= len(options)
            if count > MAX_ALTERNATIVES:
                raise self.fail(f"braces expand to more than {MAX_ALTERNATIVES} alternatives")
        return [tuple(t for flat in chosen for t in flat) for chosen in product(*parts)]

    def alternatives(self) -> list[_Flat]:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"braces are nested more than {MAX_NESTING} deep")
        options = self.sequence(in_braces=True)
        while self.pos < len(self.pattern) and self.pattern[self.pos] == ",":
            self.pos += 1
            options.extend(self.sequence(in_braces=True))
            if len(options) > MAX_ALTERNATIVES:
                raise self.fail(f"braces expand to more than {MAX_ALTERNATIVES} alternatives")
        if self.pos >= len(self.pattern):
            raise self.fail("'{' is never closed")
        self.pos += 1  # the closing brace
        self.depth -= 1
        return options

    def char_class(self) -> _One:
        # The first character may be "]" itself (as in shells), so look past it.
        end = self.pattern.find("]", self.pos + 1)
        if end < 0:
            raise self.fail("'[' is never closed")
        body = self.pattern[self.pos : end]
        self.pos = end + 1
        negate = body.startswith("!")
        return _One(self._ranges(body[1:] if negate else body), negate)

    def _ranges(self, body: str) -> tuple[tuple[str, str], ...]:
        chars: list[tuple[str, bool]] = []  # (character, escaped)
        index = 0
        while index < len(body):  # "\\x" is a literal x
            escaped = body[index] == "\\" and index + 1 < len(body)
            index += escaped
            chars.append((body[index], escaped))
            index += 1
        ranges: list[tuple[str, str]] = []
        index = 0
        while index < len(chars):
            if index + 2 < len(chars) and chars[index + 1] == ("-", False):
                low, high = chars[index][0], chars[index + 2][0]
                if low > high:
                    raise self.fail(f"the range {low}-{high} is backwards")
                ranges.append((low, high))
                index += 3
            else:
                ranges.append((chars[index][0], chars[index][0]))
                index += 1
        return tuple(ranges)


def _matches(tokens: _Flat, text: str) -> bool:
    """Wildcard matching without backtracking beyond the last ``*`` seen."""
    t = p = 0
    star, mark = -1, 0
    while t < len(text):
        token = tokens[p] if p < len(tokens) else None
        if token is STAR:
            star, mark = p, t
            p += 1
        elif token is not None and _one(token, text[t]):
            p += 1
            t += 1
        elif star >= 0:  # let the last * swallow one more character and retry from there
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    return all(token is STAR for token in tokens[p:])


def _one(token: _Token, char: str) -> bool:
    if isinstance(token, str):
        return token == char
    return isinstance(token, _One) and token.matches(char)


class Glob:
    """One compiled pattern; :meth:`matches` says whether a whole path matches it."""

    def __init__(self, pattern: str) -> None:
        parser = _Parser(pattern)
        if len(pattern) > MAX_PATTERN:
            raise parser.fail(f"longer than {MAX_PATTERN} characters")
        self.pattern = pattern
        self._alternatives = tuple(dict.fromkeys(parser.sequence(in_braces=False)))

    def matches(self, path: str) -> bool:
        return any(_matches(tokens, path) for tokens in self._alternatives)


def compile_glob(pattern: str) -> Glob:
    """The compiled ``pattern``; a :class:`RenderError` if it is malformed."""
    return Glob(pattern)


class PathFilter:
    """Decides which files (relative to the application directory) are rendered."""

    def __init__(self, include: str | None, exclude: str | None) -> None:
        self._include = compile_glob(include) if include else None
        self._exclude = compile_glob(exclude) if exclude else None

    def selects(self, relative: str) -> bool:
        if self._exclude is not None and self._exclude.matches(relative):
            return False
        return self._include is None or self._include.matches(relative)

    def excluded_by(self, relative: str) -> str | None:
        """Which setting leaves ``relative`` out ("exclude" or "include"), or None."""
        if self._exclude is not None and self._exclude.matches(relative):
            return "exclude"
        if self._include is not None and not self._include.matches(relative):
            return "include"
        return None
