"""Translate API server ``Status`` answers into gitward's error tree.

The server explains failures in a ``Status`` object (code, reason, message, causes).
This module turns the ones a user can act on into typed errors with a hint: conflicts
with another field manager (with the managers and fields), immutable fields, unknown
kinds, permissions; everything else keeps the server's own message.
"""

from __future__ import annotations

import re
from typing import Any

from gitward.errors import (
    ConflictError,
    ImmutableFieldError,
    KubeError,
    UnknownKindError,
)

_MANAGER = re.compile(r'conflicts? with "([^"]+)"')
_FIELD = re.compile(r"(?:^|\s|:\s)(\.[A-Za-z0-9_.\[\]=:\"/{}-]+)")
_IMMUTABLE = (
    "field is immutable",
    "updates to statefulset spec for fields other than",
    "may not change once set",
    "Forbidden: updates to",
)


def parse_conflict(message: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Managers and field paths named in a server-side apply conflict message.

    The message reads like ``Apply failed with 2 conflicts: conflicts with "alice":
    - .data.a - .data.b`` (one field inline after a colon when there is one).
    """
    managers = tuple(dict.fromkeys(_MANAGER.findall(message)))
    after = message.split(":", 1)[1] if ":" in message else message
    fields = tuple(dict.fromkeys(m for m in _FIELD.findall(after) if len(m) > 1))
    return managers, fields


def translate_status(
    code: int, status: dict[str, Any], action: str, subject: str | None
) -> KubeError:
    message = str(status.get("message") or status.get("reason") or f"HTTP {code}")
    reason = str(status.get("reason") or "")
    if code == 409 and action == "apply" and "conflict" in message.lower():
        managers, fields = parse_conflict(message)
        return ConflictError(message, subject=subject, managers=managers, fields=fields)
    if code == 422 and any(marker in message for marker in _IMMUTABLE):
        return ImmutableFieldError(
            message,
            subject=subject,
            status=code,
            hint="this field cannot change in place; enable the Replace sync option "
            "(delete and re-create) or change it back in Git",
        )
    if code == 404 and reason == "NotFound" and "the server could not find" in message:
        return UnknownKindError(
            message,
            subject=subject,
            status=code,
            hint="is the CRD for this kind installed in the cluster?",
        )
    if code in (401, 403):
        return KubeError(
            f"{action} was refused: {message}",
            subject=subject,
            status=code,
            hint="check the credentials (kubeconfig, or the pod's service account) and their "
            "RBAC permissions; an install limited to some namespaces (rbac.writeNamespaces) "
            "cannot write outside them",
        )
    transient = code == 429 or code >= 500
    return KubeError(
        f"{action} failed (HTTP {code}): {message}",
        subject=subject,
        status=code,
        transient=transient,
    )
