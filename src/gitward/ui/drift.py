"""Drift to Git: turn one drifted field into the change that makes Git agree.

Before: the object drawer shows the fields where the live object differs from what Git
wants (:func:`drifted_fields`, on normalized and masked objects). After: the person
pastes or commits one of two suggestions, each checked here before it is shown:

- *ignore this field*: an ``ignoreDifferences`` rule in the Application's own syntax,
  parsed back by the spec parser (so it is valid) and applied to the same pair of objects
  (so it really hides that field);
- *keep the live value*: a JSON patch (RFC 6902) for the object in the app's source, and
  the object as Git should hold it, checked by comparing it with the live object again.

A Secret's data is masked before it gets here, so "keep the live value" is refused for
it rather than suggesting the mask as a value.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gitward.errors import ConfigError
from gitward.model import FieldChange, IgnoreDifferences, JsonObject, ResourceKey
from gitward.plan import pointer
from gitward.plan.diff import diff, to_yaml
from gitward.plan.normalize import is_secret, normalize_pair
from gitward.spec.application import API_VERSIONS, parse_application


@dataclass(frozen=True)
class Suggestion:
    """A snippet to paste or commit, or why there is none."""

    text: str = ""
    problem: str = ""
    extra: str = ""  # keep-live: the whole object as Git should hold it


def drifted_fields(
    key: ResourceKey,
    desired: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    rules: Sequence[IgnoreDifferences] = (),
) -> tuple[FieldChange, ...]:
    """Fields that differ, ``before`` the live value and ``after`` Git's, secrets masked."""
    if desired is None or live is None:
        return ()
    desired_n, live_n = normalize_pair(key, desired, live, rules)
    return diff(live_n, desired_n)


def ignore_rule(
    key: ResourceKey,
    ptr: str,
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    rules: Sequence[IgnoreDifferences] = (),
) -> Suggestion:
    """An ``ignoreDifferences`` entry for this one field of this one object."""
    entry: dict[str, Any] = {"group": key.group, "kind": key.kind, "name": key.name}
    if key.namespace:
        entry["namespace"] = key.namespace
    entry["jsonPointers"] = [ptr]
    if not key.group:
        del entry["group"]
    try:
        rule = _parsed(entry)
    except ConfigError as e:
        return Suggestion(problem=f"the rule would not be valid: {e.message}")
    still = {c.pointer for c in drifted_fields(key, desired, live, [*rules, rule])}
    if ptr in still:
        return Suggestion(problem=f"a JSON pointer rule does not hide {ptr} of {key}")
    text = yaml.safe_dump({"spec": {"ignoreDifferences": [entry]}}, sort_keys=False)
    return Suggestion(text=text)


def _parsed(entry: Mapping[str, Any]) -> IgnoreDifferences:
    """The rule as the spec parser reads it inside an otherwise minimal Application."""
    doc = {
        "apiVersion": API_VERSIONS[0],
        "kind": "Application",
        "metadata": {"name": "check"},
        "spec": {
            "source": {"repoURL": "https://example.invalid/check.git", "path": "."},
            "destination": {"namespace": "check"},
            "ignoreDifferences": [dict(entry)],
        },
    }
    parsed = parse_application(doc, "<ignoreDifferences suggestion>")
    return parsed.ignore_differences[0]


def keep_live(
    key: ResourceKey,
    ptr: str,
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    rules: Sequence[IgnoreDifferences] = (),
) -> Suggestion:
    """The patch that makes Git hold the live value of this field (not for Secrets)."""
    if is_secret(key):
        return Suggestion(problem=f"{key} is a Secret: its values are never shown; edit it in Git")
    fields = {c.pointer: c for c in drifted_fields(key, desired, live, rules)}
    if ptr not in fields:
        return Suggestion(problem=f"{ptr} of {key} does not differ (any more)")
    _, live_n = normalize_pair(key, None, live, rules)
    present, value = _get(live_n or {}, ptr)
    op: dict[str, Any] = {"op": "replace" if present else "remove", "path": ptr}
    if present:
        op["value"] = value
    patched: JsonObject = copy.deepcopy(dict(desired))
    try:
        _apply(patched, op)
    except (KeyError, IndexError, TypeError, ValueError) as e:
        return Suggestion(problem=f"{ptr} cannot be set in the object from Git: {e}")
    if present and not _get(dict(desired), ptr)[0]:
        op["op"] = "add"
    if ptr in {c.pointer for c in drifted_fields(key, patched, live, rules)}:
        return Suggestion(problem=f"the patched object still differs at {ptr}")
    text = yaml.safe_dump([op], sort_keys=False)
    return Suggestion(text=text, extra=to_yaml(patched))


def _get(doc: Any, ptr: str) -> tuple[bool, Any]:
    node = doc
    for token in pointer.split(ptr):
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False, None
    return True, node


def _apply(doc: JsonObject, op: Mapping[str, Any]) -> None:
    """One replace/remove, creating missing maps on the way (Git may omit defaults)."""
    *parents, last = pointer.split(str(op["path"]))
    node: Any = doc
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
    if op["op"] == "remove":
        if isinstance(node, list):
            del node[int(last)]
        else:
            node.pop(last, None)
    elif isinstance(node, list):
        node[int(last)] = op["value"]
    else:
        node[last] = op["value"]
