"""``${var}`` substitution in text, with the syntax Flux's post-build step understands.

Flux substitutes variables in the YAML of each rendered object with a fork of drone's
``envsubst``; gitward reads the same documents, so it must expand them the same way:

- ``${name}`` is the variable's value, or the empty string when it is not set;
- ``${name:-word}`` and ``${name:=word}`` give ``word`` when the variable is unset or
  empty, ``${name-word}`` and ``${name=word}`` only when it is unset; ``word`` may hold
  further ``${...}`` expressions;
- ``${name^}``, ``${name^^}``, ``${name,}``, ``${name,,}`` change case, ``${#name}``
  is the length;
- ``$$`` is a literal ``$`` (so ``$${name}`` stays ``${name}``), and a ``$`` not
  followed by ``{`` is left alone: ``$HOME`` in a shell script is not a variable.

The other bash operators (substrings, pattern removal and replacement, ``:?``, ``:+``)
are refused with an error naming the expression rather than expanded differently.
Pure: no I/O. The values may be secret (``substituteFrom`` a Secret): no error message
ever includes a value, only variable names and expressions as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLE_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_DEFAULTS = (":-", ":=", "-", "=")
_CASES = ("^^", ",,", "^", ",")


class SubstitutionError(ValueError):
    """An expression gitward cannot expand; the message names it, never a value."""


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """``text`` with every ``${...}`` expression expanded from ``variables``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        dollar = text.find("$", i)
        if dollar < 0:
            out.append(text[i:])
            break
        out.append(text[i:dollar])
        nxt = text[dollar + 1 : dollar + 2]
        if nxt == "$":
            out.append("$")
            i = dollar + 2
        elif nxt == "{":
            end = _closing(text, dollar + 2)
            out.append(_expand(text[dollar + 2 : end], variables))
            i = end + 1
        else:
            out.append("$")
            i = dollar + 1
    return "".join(out)


def _closing(text: str, start: int) -> int:
    """The index of the ``}`` closing the expression whose body starts at ``start``."""
    depth, i = 1, start
    while i < len(text):
        if text.startswith("$$", i):
            i += 2
            continue
        if text.startswith("${", i):
            depth, i = depth + 1, i + 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise SubstitutionError(f"${{{_short(text[start:])} is not closed by a }}")


def _expand(body: str, variables: Mapping[str, str]) -> str:
    if body.startswith("#") and VARIABLE_NAME.fullmatch(body[1:]):
        return str(len(variables.get(body[1:], "")))
    match = VARIABLE_NAME.match(body)
    if match is None:
        raise SubstitutionError(f"${{{_short(body)}}} does not start with a variable name")
    name, rest = match.group(), body[match.end() :]
    value = variables.get(name)
    if rest == "":
        return value or ""
    for op in _DEFAULTS:
        if rest.startswith(op):
            unset = value is None or (op.startswith(":") and value == "")
            return substitute(rest[len(op) :], variables) if unset else str(value)
    if rest in _CASES:
        return _case(value or "", rest)
    raise SubstitutionError(
        f"${{{_short(body)}}} uses an operator gitward does not support "
        "(only ${name}, ${name:-default}, ${name:=default}, ${name-default}, "
        "${name=default}, ${#name} and the case operators ^ ^^ , ,,)"
    )


def _case(value: str, op: str) -> str:
    if op == "^^":
        return value.upper()
    if op == ",,":
        return value.lower()
    if op == "^":
        return value[:1].upper() + value[1:]
    return value[:1].lower() + value[1:]


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."
