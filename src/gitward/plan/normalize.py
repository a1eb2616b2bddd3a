"""Bring two versions of an object to a comparable form before diffing them.

Three steps, in this order:

1. Ignore rules (:class:`IgnoreDifferences`) drop fields from both sides: by JSON pointer,
   and every field owned by the named field managers according to the *live* object's
   ``managedFields`` (which is why this step runs before managedFields is stripped).
2. Server-set fields are stripped: ``status`` and the bookkeeping in ``metadata`` that
   the API server writes (uid, resourceVersion, generation, timestamps, managedFields).
   ``deletionTimestamp`` is stripped too, because Git never sets it; an object being
   deleted is reported by :func:`being_deleted` instead of as a diff. The tracking
   annotation is *not* stripped: an object claimed by another app is a real difference.
3. Secrets are masked: the values of ``data`` and ``stringData`` (and the
   ``last-applied-configuration`` annotation, which copies them) become runs of ``+``.
   Equal values get equal masks and different values different masks, across both
   sides, so a diff still shows *that* and *where* a secret changed, never its content,
   and no hash of it either.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping, Sequence
from typing import Any

from gitward.model import IgnoreDifferences, JsonObject, ResourceKey
from gitward.plan import managedfields, pointer

SERVER_SET_METADATA = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_SECRET_FIELDS = ("data", "stringData")
_MASK_BASE = 8


def is_secret(key: ResourceKey) -> bool:
    return key.group == "" and key.kind == "Secret"


def being_deleted(live: Mapping[str, Any]) -> bool:
    meta = live.get("metadata")
    return isinstance(meta, Mapping) and bool(meta.get("deletionTimestamp"))


def strip_server_fields(obj: Mapping[str, Any]) -> JsonObject:
    """A deep copy of ``obj`` without ``status`` and server-written metadata."""
    stripped: JsonObject = copy.deepcopy(dict(obj))
    stripped.pop("status", None)
    meta = stripped.get("metadata")
    if isinstance(meta, dict):
        for name in SERVER_SET_METADATA:
            meta.pop(name, None)
        if meta.get("annotations") == {}:
            del meta["annotations"]
    return stripped


def rule_matches(rule: IgnoreDifferences, key: ResourceKey) -> bool:
    """A rule matches by group and kind (``*`` matches any) and, when set, name/namespace."""
    return (
        rule.kind in ("*", key.kind)
        and rule.group in ("*", key.group)
        and rule.name in (None, key.name)
        and rule.namespace in (None, key.namespace)
    )


def apply_ignore_rules(
    key: ResourceKey,
    obj: JsonObject,
    live: Mapping[str, Any] | None,
    rules: Sequence[IgnoreDifferences],
) -> None:
    """Remove ignored fields from ``obj`` in place (the caller's copy)."""
    for rule in rules:
        if not rule_matches(rule, key):
            continue
        for ptr in rule.json_pointers:
            pointer.remove(obj, ptr)
        if rule.managed_fields_managers and live is not None:
            paths = managedfields.managed_by(live, rule.managed_fields_managers)
            managedfields.remove_paths(obj, paths)


def secret_as_stored(body: Mapping[str, Any]) -> JsonObject:
    """A Secret as the API server stores it: ``stringData`` merged into ``data`` as base64.

    Only needed when no server-side dry-run result is available to compare with.
    """
    stored: JsonObject = copy.deepcopy(dict(body))
    string_data = stored.pop("stringData", None)
    if isinstance(string_data, Mapping):
        data = dict(stored.get("data") or {})
        for name, value in string_data.items():
            data[name] = base64.b64encode(str(value).encode()).decode()
        stored["data"] = data
    return stored


def mask_secrets(a: JsonObject | None, b: JsonObject | None) -> None:
    """Replace secret values in both objects in place with masks (see module docstring)."""
    masks: dict[str, str] = {}
    for obj in (a, b):
        if obj is not None:
            _mask(obj, masks)


def _mask(obj: JsonObject, masks: dict[str, str]) -> None:
    for field in _SECRET_FIELDS:
        values = obj.get(field)
        if isinstance(values, dict):
            for name in sorted(values):
                values[name] = _mask_for(str(values[name]), masks)
    annotations = (obj.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        annotations[LAST_APPLIED] = _mask_for(str(annotations[LAST_APPLIED]), masks)


def _mask_for(value: str, masks: dict[str, str]) -> str:
    if value not in masks:
        masks[value] = "+" * (_MASK_BASE + len(masks))
    return masks[value]


def normalize_pair(
    key: ResourceKey,
    after: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    rules: Sequence[IgnoreDifferences] = (),
) -> tuple[JsonObject | None, JsonObject | None]:
    """Both sides ready to diff: ignore rules applied, server fields stripped, secrets masked.

    ``after`` is the predicted (dry-run) object, or the desired one when there is none.
    """
    sides: list[JsonObject | None] = []
    for obj in (after, live):
        if obj is None:
            sides.append(None)
            continue
        copied: JsonObject = copy.deepcopy(dict(obj))
        apply_ignore_rules(key, copied, live, rules)
        sides.append(strip_server_fields(copied))
    normalized_after, normalized_live = sides
    if is_secret(key):
        mask_secrets(normalized_after, normalized_live)
    return normalized_after, normalized_live
