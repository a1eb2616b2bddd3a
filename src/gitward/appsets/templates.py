"""Render an ApplicationSet's ``template`` for one set of generator parameters.

Two syntaxes, as Argo CD has them: with ``goTemplate: true`` every string (and mapping
key) of the template is a Go template (:mod:`gitward.appsets.gotemplate`) over nested
parameters; without it, Argo CD's default ``fasttemplate`` syntax replaces ``{{key}}``
(spaces allowed inside the braces) with the value of a flat parameter such as
``path.basename`` or ``metadata.labels.env``. Either way a key the parameters do not
hold is an error naming it, never an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitward.appsets import gotemplate
from gitward.appsets.funcs import TemplateError

_FAST = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def render_fast(text: str, params: Mapping[str, Any]) -> str:
    """Argo CD's default syntax: each ``{{key}}`` replaced by the flat parameter."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in params:
            raise TemplateError(f"unknown template key {{{{{key}}}}}", key=key)
        value = params[key]
        return value if isinstance(value, str) else str(value)

    return _FAST.sub(one, text)


def render_tree(template: Any, params: Mapping[str, Any], *, go: bool) -> Any:
    """A copy of ``template`` with every string rendered against ``params``."""
    if isinstance(template, str):
        return gotemplate.render(template, params) if go else render_fast(template, params)
    if isinstance(template, Mapping):
        return {
            render_tree(k, params, go=go): render_tree(v, params, go=go)
            for k, v in template.items()
        }
    if isinstance(template, list):
        return [render_tree(v, params, go=go) for v in template]
    return template


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested parameters as fasttemplate sees them: ``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``.

    Lists become ``key[0]``, ``key[1]``...; values become strings (booleans as Go prints
    them), as Argo CD flattens a Git file's content.
    """
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                flat.update(flatten({f"{name}[{i}]": item}))
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def merge_template(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A generator's own ``template`` over the set's: its non-empty fields win, deeply."""
    merged = dict(base)
    for key, value in override.items():
        if value in (None, "", {}, []):
            continue
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_template(merged[key], value)
        else:
            merged[key] = value
    return merged
