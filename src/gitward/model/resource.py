"""Kubernetes objects as gitward passes them between stages.

A :class:`Resource` is one object in the JSON-like form the API server speaks (a plain
``dict``), with its identity precomputed as a :class:`ResourceKey` and, for rendered
objects, the place in the repository it came from. Bodies are never mutated in place:
stages that change an object build a new one (see :meth:`Resource.with_body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]
GENERATED = "*"  # ends the key name of an object named by the server (generateName)


def split_api_version(api_version: str) -> tuple[str, str]:
    """``"apps/v1"`` → ``("apps", "v1")``; ``"v1"`` → ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass(frozen=True, order=True)
class GroupKind:
    """A kind of object, independent of version: ``apps/Deployment``, ``/ConfigMap``."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}" if self.group else self.kind


@dataclass(frozen=True, order=True)
class ResourceKey:
    """The identity of an object: group, kind, namespace ("" if cluster-scoped), name.

    The version is deliberately not part of it: ``apps/v1`` and ``apps/v1beta1``
    Deployments of the same name are one object.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> ResourceKey:
        """The key of an object body (its namespace as written; may be empty).

        A body with ``generateName`` and no name (a hook the server names anew on every
        sync) gets the prefix followed by :data:`GENERATED` as its name: no real object
        can have that name, and two such hooks differ by their prefix.
        """
        group, _ = split_api_version(str(obj.get("apiVersion", "")))
        meta = obj.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{GENERATED}"
        return cls(group, str(obj.get("kind", "")), str(meta.get("namespace") or ""), name)

    @property
    def generated(self) -> bool:
        """True for a hook named by the server (``generateName``): no fixed identity."""
        return self.name.endswith(GENERATED)

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        if self.namespace:
            return f"{kind} {self.namespace}/{self.name}"
        return f"{kind} {self.name}"


@dataclass(frozen=True)
class SourceLocation:
    """Where a rendered object came from: a file in the repository, and where in it."""

    path: str  # relative to the repository root, with forward slashes
    line: int | None = None  # 1-based line of the document's start, when known
    document: int = 0  # index of the document within a multi-document file

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Resource:
    """One object and its identity. ``body`` is the full object; treat it as read-only."""

    key: ResourceKey
    body: JsonObject = field(compare=False, repr=False)
    source: SourceLocation | None = field(default=None, compare=False)

    @classmethod
    def of(cls, body: JsonObject, source: SourceLocation | None = None) -> Resource:
        return cls(ResourceKey.of(body), body, source)

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def metadata(self) -> Mapping[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def annotations(self) -> Mapping[str, str]:
        annotations = self.metadata.get("annotations")
        return annotations if isinstance(annotations, Mapping) else {}

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, Mapping) else {}

    def with_body(self, body: JsonObject) -> Resource:
        """A copy with a new body (its key recomputed), keeping the source location."""
        return Resource(ResourceKey.of(body), body, self.source)
