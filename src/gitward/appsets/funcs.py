"""The functions an ApplicationSet's Go template may call: Go's builtins that make sense
for strings, the Sprig string helpers Argo CD's examples use, and Argo CD's
``normalize``. All pure; none reaches the environment, the network or the clock (Argo
CD itself leaves out Sprig's ``env``, ``expandenv`` and ``getHostByName``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from gitward.errors import ConfigError


class TemplateError(ConfigError):
    """A template that cannot be rendered; ``key`` is the missing key, if that is why."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def go_string(value: Any) -> str:
    """How Go's ``text/template`` prints a value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping):
        inner = " ".join(f"{go_string(k)}:{go_string(v)}" for k, v in sorted(value.items()))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_string(v) for v in value) + "]"
    if value is None:
        return "<no value>"
    return str(value)


def truthy(value: Any) -> bool:
    """Go's truth: false, 0, and empty strings, lists and maps are false."""
    return bool(value)


def _index(collection: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(collection, Mapping):
            if key not in collection:
                # Go returns the zero value here; gitward refuses, like a missing field.
                raise TemplateError(f"index: map has no entry for key {key!r}", key=str(key))
            collection = collection[key]
        elif isinstance(collection, list | tuple | str):
            if not isinstance(key, int) or not -len(collection) <= key < len(collection):
                raise TemplateError(f"index: {key!r} is out of range (length {len(collection)})")
            collection = collection[key]
        else:
            raise TemplateError(f"index: cannot index {go_string(collection)!r}")
    return collection


def _normalize(value: Any) -> str:
    """Argo CD's ``normalize``: a valid DNS name (invalid characters become ``-``)."""
    text = re.sub(r"[^a-z0-9.-]", "-", go_string(value).lower())
    return text[:253].strip("-.")


def _printf(fmt: str, *args: Any) -> str:
    """Go's ``printf`` for the verbs templates use: %s %v %d %q and %%."""
    values = iter(args)

    def verb(match: re.Match[str]) -> str:
        if match.group(1) == "%":
            return "%"
        try:
            value = next(values)
        except StopIteration:
            return f"%!{match.group(1)}(MISSING)"
        if match.group(1) == "q":
            return json.dumps(go_string(value))
        return go_string(value)

    return re.sub(r"%([svdq%])", verb, fmt)


def _default(fallback: Any, value: Any = None) -> Any:
    return value if truthy(value) else fallback


def _join(separator: str, items: Sequence[Any]) -> str:
    return separator.join(go_string(i) for i in items)


def _trunc(length: int, text: str) -> str:
    return text[:length] if length >= 0 else text[length:]


def _to_yaml(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _eq(first: Any, *others: Any) -> bool:
    return any(first == other for other in others)


FUNCS: dict[str, Callable[..., Any]] = {
    # Go's builtins
    "index": _index,
    "len": len,
    "printf": _printf,
    "print": lambda *a: "".join(go_string(v) for v in a),
    "eq": _eq,
    "ne": lambda a, b: a != b,
    "not": lambda a: not truthy(a),
    "and": lambda *a: next((v for v in a if not truthy(v)), a[-1]),
    "or": lambda *a: next((v for v in a if truthy(v)), a[-1]),
    # Sprig's string helpers (argument order as Sprig has it: the subject last)
    "lower": lambda s: go_string(s).lower(),
    "upper": lambda s: go_string(s).upper(),
    "title": lambda s: go_string(s).title(),
    "trim": lambda s: go_string(s).strip(),
    "trimPrefix": lambda p, s: go_string(s).removeprefix(p),
    "trimSuffix": lambda p, s: go_string(s).removesuffix(p),
    "replace": lambda old, new, s: go_string(s).replace(old, new),
    "contains": lambda sub, s: sub in go_string(s),
    "hasPrefix": lambda p, s: go_string(s).startswith(p),
    "hasSuffix": lambda p, s: go_string(s).endswith(p),
    "quote": lambda s: json.dumps(go_string(s)),
    "squote": lambda s: f"'{go_string(s)}'",
    "default": _default,
    "join": _join,
    "split": lambda sep, s: {f"_{i}": p for i, p in enumerate(go_string(s).split(sep))},
    "trunc": _trunc,
    "toJson": lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")),
    "toYaml": _to_yaml,
    # Argo CD's own
    "normalize": _normalize,
}
