"""Include/exclude globs of the directory renderer, with Argo CD's meaning.

An Argo CD ``directory.include`` or ``directory.exclude`` pattern is matched against a
file's path relative to the application directory, and it has no path separators:
``*`` matches any run of characters *including* ``/``, so ``*.yaml`` also selects
``sub/app.yaml`` when recursing. ``?`` matches one character, ``[abc]``/``[!abc]`` a
class, and ``{a,b}`` any of its comma-separated alternatives (which may nest and hold
wildcards). Used by :mod:`gitward.render.directory` only.
"""

from __future__ import annotations

import re

from gitward.errors import RenderError


class _Compiler:
    """A small recursive-descent translation of one glob into a regular expression."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def fail(self, problem: str) -> RenderError:
        return RenderError(
            f"invalid glob {self.pattern!r}: {problem}",
            hint="globs use *, ?, [abc] and {a,b} alternatives, as in Argo CD",
        )

    def sequence(self, in_braces: bool) -> str:
        out: list[str] = []
        while self.pos < len(self.pattern):
            char = self.pattern[self.pos]
            if in_braces and char in ",}":
                break
            self.pos += 1
            if char == "*":
                out.append(".*")
            elif char == "?":
                out.append(".")
            elif char == "[":
                out.append(self.char_class())
            elif char == "{":
                out.append(self.alternatives())
            elif char == "\\" and self.pos < len(self.pattern):
                out.append(re.escape(self.pattern[self.pos]))
                self.pos += 1
            else:
                out.append(re.escape(char))
        return "".join(out)

    def alternatives(self) -> str:
        options = [self.sequence(in_braces=True)]
        while self.pos < len(self.pattern) and self.pattern[self.pos] == ",":
            self.pos += 1
            options.append(self.sequence(in_braces=True))
        if self.pos >= len(self.pattern):
            raise self.fail("'{' is never closed")
        self.pos += 1  # the closing brace
        return "(?:" + "|".join(options) + ")"

    def char_class(self) -> str:
        end = self.pattern.find("]", self.pos + 1)
        if end < 0:
            raise self.fail("'[' is never closed")
        body = self.pattern[self.pos : end]
        self.pos = end + 1
        negate = body.startswith("!")
        body = body[1:] if negate else body
        escaped = body.replace("\\", "\\\\").replace("^", "\\^")
        return "[" + ("^" if negate else "") + escaped + "]"


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regular expression matching exactly the paths ``pattern`` matches."""
    compiler = _Compiler(pattern)
    regex = compiler.sequence(in_braces=False)
    return re.compile(regex + r"\Z", re.DOTALL)


class PathFilter:
    """Decides which files (relative to the application directory) are rendered."""

    def __init__(self, include: str | None, exclude: str | None) -> None:
        self._include = compile_glob(include) if include else None
        self._exclude = compile_glob(exclude) if exclude else None

    def selects(self, relative: str) -> bool:
        if self._exclude is not None and self._exclude.match(relative):
            return False
        return self._include is None or self._include.match(relative) is not None
