"""Commit messages of image updates, from a template in the subset of Go's text/template
that Flux's ``messageTemplate`` examples use, so those templates work unchanged.

Supported: ``{{ .AutomationObject }}``, field paths (``.Updated.Images``,
``$change.NewValue``), ``{{ . }}``, ``{{ range PIPE }}``, ``{{ range $v := PIPE }}``
and ``{{ range $k, $v := PIPE }}`` over lists and maps (maps by sorted key), ``{{ end }}``,
and the ``{{-``/``-}}`` whitespace trimming. The data::

    AutomationObject   "namespace/name"
    Updated.Images     ["host/app:1.2.3", ...]            the new image references
    Updated.Files      {"apps/web.yaml": {}, ...}          edited files
    Updated.Objects    {{Kind, Namespace, Name}: {}, ...}  the YAML objects edited
    Changed.Changes    [{OldValue, NewValue, Setter}, ...] one per edited scalar

Anything else (``if``, functions) is a :class:`ConfigError` naming it, at parse time,
never a silently empty message. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.imageauto.setters import Change

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)
_RANGE = re.compile(r"^range\s+(?:(\$\w+)\s*(?:,\s*(\$\w+))?\s*:=\s*)?(\S+)$")
_PATH = re.compile(r"^(\$\w+)?((?:\.\w+)*|\.)$")
DEFAULT = (
    "Update images ({{ .AutomationObject }})\n\n{{ range .Changed.Changes -}}\n"
    "- {{ .OldValue }} -> {{ .NewValue }} ({{ .Setter }})\n{{ end -}}\n"
)


@dataclass
class _Node:
    text: str = ""  # a literal
    path: str = ""  # an action printing a value
    over: str = ""  # a range: the collection ...
    names: tuple[str, ...] = ()  # ... its variables ...
    body: list[_Node] = field(default_factory=list)  # ... and its body


def render(
    template: str, automation: str, changes: Sequence[Change], images: Sequence[str] = ()
) -> str:
    """The message for ``changes``; :data:`DEFAULT` when ``template`` is empty.
    ``images``: the new references (``host/path:tag``) of the policies that changed."""
    nodes = parse(template or DEFAULT, automation)
    files: dict[str, dict[str, str]] = {c.file: {} for c in changes}
    objects: dict[tuple[str, str, str], dict[str, str]] = {
        c.object: {} for c in changes if c.object[0]
    }
    data = {
        "AutomationObject": automation,
        "Updated": {
            "Images": sorted(set(images)),
            "Files": files,
            "Objects": _Pairs(
                ({"Kind": k, "Namespace": ns, "Name": n}, {}) for k, ns, n in sorted(objects)
            ),
        },
        "Changed": {
            "Changes": [{"OldValue": c.old, "NewValue": c.new, "Setter": c.policy} for c in changes]
        },
    }
    return "".join(_evaluate(nodes, data, {"$": data}))


def parse(template: str, where: str) -> list[_Node]:
    """The template as a tree; a ConfigError names an unsupported action."""
    root: list[_Node] = []
    stack = [root]
    position = 0
    for match in _ACTION.finditer(template):
        text = template[position : match.start()]
        if match[1]:
            text = text.rstrip()
        stack[-1].append(_Node(text=text))
        position = match.end()
        if match[3]:
            rest = template[position:]
            position += len(rest) - len(rest.lstrip())
        action = match[2]
        if action == "end":
            if len(stack) == 1:
                raise _bad(where, action, "has no range to end")
            stack.pop()
        elif (ranged := _RANGE.match(action)) is not None:
            names = tuple(n for n in (ranged[1], ranged[2]) if n)
            node = _Node(over=_checked(ranged[3], where), names=names)
            stack[-1].append(node)
            stack.append(node.body)
        else:
            stack[-1].append(_Node(path=_checked(action, where)))
    if len(stack) != 1:
        raise _bad(where, "range", "is not closed by {{ end }}")
    stack[-1].append(_Node(text=template[position:]))
    return root


def _checked(path: str, where: str) -> str:
    if _PATH.match(path) is None:
        raise _bad(where, path, "is not supported (field paths, range and end only)")
    return path


def _bad(where: str, action: str, why: str) -> ConfigError:
    return ConfigError(
        f"{where}: messageTemplate action {{{{ {action} }}}} {why}",
        hint="use .AutomationObject, .Updated.Images, .Updated.Files, .Updated.Objects "
        "or .Changed.Changes",
    )


def _evaluate(nodes: list[_Node], dot: Any, names: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for node in nodes:
        if node.over:
            out.extend(_range(node, _lookup(node.over, dot, names), names))
        elif node.path:
            value = _lookup(node.path, dot, names)
            out.append("" if value is None else str(value))
        else:
            out.append(node.text)
    return out


class _Pairs(list[tuple[Any, Any]]):
    """Key/value pairs ranged over like a map, for keys that are objects (Go structs)."""


def _range(node: _Node, collection: Any, names: Mapping[str, Any]) -> list[str]:
    if isinstance(collection, _Pairs):
        pairs: list[tuple[Any, Any]] = list(collection)
    elif isinstance(collection, Mapping):
        pairs = [(k, collection[k]) for k in sorted(collection)]
    else:
        pairs = list(enumerate(collection or []))
    out: list[str] = []
    for key, value in pairs:
        scope = dict(names)
        if len(node.names) == 1:
            scope[node.names[0]] = value
        elif len(node.names) == 2:
            scope[node.names[0]], scope[node.names[1]] = key, value
        out.extend(_evaluate(node.body, value, scope))
    return out


def _lookup(path: str, dot: Any, names: Mapping[str, Any]) -> Any:
    match = _PATH.match(path)
    if match is None:  # never: checked at parse time
        return None
    value = names.get(match[1]) if match[1] else dot
    for part in (match[2] or "").split(".")[1:]:
        if part:
            value = value.get(part) if isinstance(value, Mapping) else None
    return value
