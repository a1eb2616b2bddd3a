"""A small, safe subset of Go's ``text/template``, as ApplicationSets use it.

Argo CD renders an ApplicationSet's template (``goTemplate: true``) with Go's
``text/template`` plus the Sprig functions. No maintained Python implementation of that
language exists (the PyPI packages wrap a Go shared library or were abandoned), and
Jinja2 reads ``{{.path.basename}}`` differently; so this module interprets the part of
the language that generated Applications need, and refuses the rest by name:

- actions ``{{ pipeline }}`` with ``{{-``/``-}}`` trimming and ``{{/* comments */}}``;
- operands: ``.``, ``.a.b``, ``$``, ``$.a``, string (``"..."``, raw), number,
  ``true``/``false``, ``(pipeline)``; pipelines ``a | f x`` pass ``a`` as the last
  argument, as Go does;
- ``if`` / ``else if`` / ``else`` / ``end``;
- the functions of :mod:`gitward.appsets.funcs`.

There is no ``range``, ``with``, ``define`` or ``template``, and no way to reach the
host: functions are a fixed table of pure ones. A key that is missing is always an
error naming it (Argo CD's ``missingkey=error``), including through ``index``, so a
typo never becomes an empty application name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitward.appsets.funcs import FUNCS, TemplateError, go_string, truthy

__all__ = ["TemplateError", "render"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<field>(?:\$[A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\$[A-Za-z0-9_]*|\.)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[|()])
    )""",
    re.VERBOSE,
)
_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
_MAX_DEPTH = 32  # nested parentheses / ifs: a template is not a program
_UNSUPPORTED = {"range", "with", "define", "template", "block", "break", "continue"}


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Action:
    pipeline: list[list[tuple[str, Any]]]


@dataclass
class _If:
    branches: list[tuple[list[list[tuple[str, Any]]] | None, list[object]]]


def render(template: str, data: Mapping[str, Any]) -> str:
    """``template`` executed against ``data``; :class:`TemplateError` names what failed."""
    if "{{" not in template:
        return template
    nodes = _parse(_split(template))
    out: list[str] = []
    _execute(nodes, data, out)
    return "".join(out)


def _split(template: str) -> list[object]:
    """Text and action pieces, with Go's trim markers applied to the text beside them."""
    pieces: list[object] = []
    pos = 0
    for match in _ACTION.finditer(template):
        text = template[pos : match.start()]
        if match.group(1):
            text = text.rstrip()
        if pieces and isinstance(pieces[-1], tuple) and pieces[-1][1]:
            text = text.lstrip()
        pieces.append(_Text(text))
        pieces.append((match.group(2).strip(), bool(match.group(3))))
        pos = match.end()
    rest = template[pos:]
    if "{{" in rest:
        raise TemplateError(f"unclosed action in {template!r}: a '{{{{' without '}}}}'")
    if pieces and isinstance(pieces[-1], tuple) and pieces[-1][1]:
        rest = rest.lstrip()
    pieces.append(_Text(rest))
    return pieces


def _parse(pieces: list[object]) -> list[object]:
    """A tree of text, actions and ifs; an ``end`` without ``if`` (and vice versa) fails."""
    root: list[object] = []
    stack: list[tuple[_If, list[object]]] = []
    current = root
    for piece in pieces:
        if isinstance(piece, _Text):
            current.append(piece)
            continue
        body: str = piece[0]  # type: ignore[index]
        if not body.startswith("/*"):
            current = _control(body, current, stack)
    if stack:
        raise TemplateError("{{if}} without {{end}}")
    return root


def _control(
    body: str, current: list[object], stack: list[tuple[_If, list[object]]]
) -> list[object]:
    """Add one action to ``current``; return the list the next pieces go to."""
    word = body.split(None, 1)[0] if body else ""
    if word in _UNSUPPORTED:
        raise TemplateError(f"{{{{{word}}}}} is not supported by gitward's Go templates")
    if word == "if":
        node = _If([(_pipeline(body[2:]), [])])
        current.append(node)
        stack.append((node, current))
        if len(stack) > _MAX_DEPTH:
            raise TemplateError("if blocks nested too deeply")
        return node.branches[-1][1]
    if word in ("else", "end") and not stack:
        raise TemplateError(f"{{{{{word}}}}} without {{{{if}}}}")
    if word == "else":
        rest = body[4:].strip()
        cond = _pipeline(rest[2:]) if rest.startswith("if") else None
        if rest and cond is None:
            raise TemplateError(f"unexpected {rest!r} after else")
        stack[-1][0].branches.append((cond, []))
        return stack[-1][0].branches[-1][1]
    if word == "end":
        return stack.pop()[1]
    current.append(_Action(_pipeline(body)))
    return current


def _pipeline(source: str) -> list[list[tuple[str, Any]]]:
    tokens = _tokens(source)
    pipeline, rest = _commands(tokens, 0)
    if rest:
        raise TemplateError(f"unexpected {rest[0][1]!r} in {{{{{source.strip()}}}}}")
    return pipeline


def _tokens(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    source = source.rstrip()
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None or match.end() == pos:
            raise TemplateError(f"cannot read {source[pos:].strip()!r} in {{{{{source.strip()}}}}}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    if not tokens:
        raise TemplateError("an empty action {{}}")
    return tokens


def _commands(
    tokens: list[tuple[str, str]], depth: int
) -> tuple[list[list[tuple[str, Any]]], list[tuple[str, str]]]:
    """Commands separated by ``|`` up to a closing parenthesis (or the end)."""
    if depth > _MAX_DEPTH:
        raise TemplateError("parentheses nested too deeply")
    pipeline: list[list[tuple[str, Any]]] = [[]]
    while tokens:
        kind, text = tokens[0]
        if kind == "punct" and text == ")":
            break
        tokens = tokens[1:]
        if kind == "punct" and text == "|":
            pipeline.append([])
        elif kind == "punct" and text == "(":
            inner, tokens = _commands(tokens, depth + 1)
            if not tokens:
                raise TemplateError("a '(' without ')'")
            tokens = tokens[1:]
            pipeline[-1].append(("paren", inner))
        else:
            pipeline[-1].append((kind, text))
    if any(not command for command in pipeline):
        raise TemplateError("an empty command in a pipeline")
    return pipeline, tokens


def _execute(nodes: list[object], data: Mapping[str, Any], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Action):
            out.append(go_string(_run(node.pipeline, data)))
        elif isinstance(node, _If):
            for cond, body in node.branches:
                if cond is None or truthy(_run(cond, data)):
                    _execute(body, data, out)
                    break


def _run(pipeline: list[list[tuple[str, Any]]], data: Mapping[str, Any]) -> Any:
    value: Any = None
    for i, command in enumerate(pipeline):
        piped = () if i == 0 else (value,)
        value = _command(command, data, piped)
    return value


def _command(
    command: list[tuple[str, Any]], data: Mapping[str, Any], piped: tuple[Any, ...]
) -> Any:
    kind, text = command[0]
    if kind == "ident" and text not in ("true", "false", "nil"):
        if text not in FUNCS:
            raise TemplateError(f"function {text!r} is not defined")
        args = [_operand(arg, data) for arg in command[1:]]
        return FUNCS[text](*args, *piped)
    if len(command) > 1 or piped:
        raise TemplateError(f"{text!r} is not a function; it cannot take arguments")
    return _operand(command[0], data)


def _operand(token: tuple[str, Any], data: Mapping[str, Any]) -> Any:
    kind, text = token
    if kind == "paren":
        return _run(text, data)
    if kind == "str":
        return _unquote(text)
    if kind == "raw":
        return text[1:-1]
    if kind == "num":
        return float(text) if "." in text else int(text)
    if kind == "field":
        return _field(text, data)
    if kind == "ident" and text in ("true", "false"):
        return text == "true"
    if kind == "ident" and text == "nil":
        raise TemplateError("nil is not a value gitward's templates accept")
    raise TemplateError(f"{text!r} must be called as a function, not passed as a value")


def _field(path: str, data: Mapping[str, Any]) -> Any:
    """``.a.b`` (from dot, which is the data: there is no ``with``/``range``) or ``$.a``."""
    if path.startswith("$"):
        head, _, rest = path.partition(".")
        if head != "$":
            raise TemplateError(f"undefined variable {head!r}")
        path = "." + rest if rest else "."
    value: Any = data
    walked = ""
    for key in (k for k in path.split(".") if k):
        walked += "." + key
        if not isinstance(value, Mapping):
            parent = walked[: -len(key) - 1] or "."
            raise TemplateError(f"{parent} is not a map, so {walked} is undefined")
        if key not in value:
            raise TemplateError(f"unknown template key {walked} (no such entry)", key=walked)
        value = value[key]
    return value


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'"}


def _unquote(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise TemplateError(f"unknown escape \\{char} in {text}")
        return _ESCAPES[char]

    return re.sub(r"\\(.)", one, text[1:-1])
