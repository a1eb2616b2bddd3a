"""A person's choices for one manual sync: prune or not, force conflicts or not, which
objects.

The API (``POST .../sync`` body) and the UI's sync dialog build one; it travels with the
queued trigger to the reconcile step, which plans and applies with it for that run only,
and is written to the sync's history record so that history says how a sync was asked
for. Every field left unset means "as the Application's sync policy says".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitward.model.resource import ResourceKey

BODY_FIELDS = ("prune", "force", "resources")


@dataclass(frozen=True)
class SyncRequest:
    """``prune``/``force``: None for the policy's choice; ``only``: empty for every object."""

    prune: bool | None = None
    force: bool | None = None
    only: tuple[ResourceKey, ...] = ()  # sorted, without repeats

    @property
    def default(self) -> bool:
        return self.prune is None and self.force is None and not self.only

    def describe(self) -> str:
        """For people: ``prune off, force, only ConfigMap demo/a`` ("" when default)."""
        parts = []
        if self.prune is not None:
            parts.append("prune on" if self.prune else "prune off")
        if self.force is not None:
            parts.append("force" if self.force else "no force")
        if self.only:
            parts.append("only " + ", ".join(str(k) for k in self.only))
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.prune is not None:
            body["prune"] = self.prune
        if self.force is not None:
            body["force"] = self.force
        if self.only:
            body["resources"] = [str(k) for k in self.only]
        return body

    def encode(self) -> str:
        """The store's text form ("" for the default request)."""
        return "" if self.default else json.dumps(self.to_json(), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> SyncRequest:
        return request_from_body(json.loads(text)) if text else cls()


def request_from_body(body: object) -> SyncRequest:
    """A request from its JSON form; ``ValueError`` naming the field that is wrong."""
    if body is None:
        return SyncRequest()
    if not isinstance(body, dict):
        raise ValueError('the body must be a JSON object like {"prune": false}')  # noqa: TRY004
    unknown = sorted(set(body) - set(BODY_FIELDS))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}; known: {', '.join(BODY_FIELDS)}")
    for flag in ("prune", "force"):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise ValueError(f"{flag!r} must be true, false or null, not {body[flag]!r}")
    resources = body.get("resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise ValueError('"resources" must be a list like ["Deployment.apps demo/web"]')
    only = tuple(sorted({parse_key(r) for r in resources}, key=str))
    return SyncRequest(body.get("prune"), body.get("force"), only)


def parse_key(text: str) -> ResourceKey:
    """The inverse of ``str(ResourceKey)``: ``Kind[.group] [namespace/]name``."""
    kind_group, _, where = text.strip().partition(" ")
    kind, _, group = kind_group.partition(".")
    namespace, _, name = where.strip().rpartition("/")
    if not kind or not name or " " in name:
        raise ValueError(
            f"{text!r} is not an object: write it as 'Kind[.group] [namespace/]name', "
            "e.g. 'Deployment.apps demo/web' or 'Namespace demo'"
        )
    return ResourceKey(group, kind, namespace, name)


def unknown_objects(request: SyncRequest, known: frozenset[ResourceKey]) -> list[ResourceKey]:
    """The objects ``request`` names that the app does not have."""
    return [k for k in request.only if k not in known]
