"""What gitward knows offline about kinds: their resource names, scope and schemas.

Built-in kinds come from a snapshot of the pinned Kubernetes version's ``/openapi/v3``
and discovery, shipped as compressed package data and made by
``scripts/openapi-snapshot`` from the dev cluster. CustomResourceDefinitions among the
objects being checked add their own kinds (plural, scope and the schema of every
served version), so a repository that ships a CRD and its custom resources validates
without a cluster. Reading the package data is the only file access; the rest is pure.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import orjson

from gitward.model import GroupKind, Resource

SNAPSHOT_KUBERNETES = "v1.36.3"
_CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
_SNAPSHOT = f"kubernetes-{SNAPSHOT_KUBERNETES}.json.gz"


@dataclass(frozen=True)
class KindInfo:
    group: str
    kind: str
    plural: str
    namespaced: bool
    # version -> a JSON schema of the whole object (with $defs), if known
    schemas: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    origin: str = "kubernetes"  # or "CustomResourceDefinition <name>"

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)


@dataclass(frozen=True)
class Catalog:
    """Kinds by group and kind. ``with_crds`` adds the CRDs of a set of objects."""

    kinds: Mapping[GroupKind, KindInfo]
    definitions: Mapping[str, Any] = field(default_factory=dict, repr=False)
    kubernetes: str = SNAPSHOT_KUBERNETES

    def get(self, group: str, kind: str) -> KindInfo | None:
        return self.kinds.get(GroupKind(group, kind))

    def namespaced(self, gk: GroupKind) -> bool | None:
        info = self.kinds.get(gk)
        return None if info is None else info.namespaced

    def plural(self, group: str, kind: str) -> str:
        info = self.get(group, kind)
        return info.plural if info is not None else pluralize(kind)

    def with_crds(self, objects: Iterable[Resource]) -> Catalog:
        added = {}
        for resource in objects:
            if resource.key.group_kind == _CRD:
                info = crd_kind(resource.body)
                if info is not None:
                    added[info.group_kind] = info
        if not added:
            return self
        return Catalog({**self.kinds, **added}, self.definitions, self.kubernetes)


def crd_kind(body: Mapping[str, Any]) -> KindInfo | None:
    """The kind a CustomResourceDefinition declares, with each served version's schema."""
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        return None
    names = spec.get("names") or {}
    group, kind = str(spec.get("group", "")), str(names.get("kind", ""))
    if not group or not kind:
        return None
    schemas = {}
    for version in spec.get("versions") or []:
        if not isinstance(version, Mapping) or version.get("served") is False:
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        schemas[str(version.get("name", ""))] = schema if isinstance(schema, Mapping) else None
    name = str((body.get("metadata") or {}).get("name", ""))
    return KindInfo(
        group,
        kind,
        str(names.get("plural") or pluralize(kind)),
        spec.get("scope", "Namespaced") != "Cluster",
        schemas,
        f"CustomResourceDefinition {name}",
    )


def pluralize(kind: str) -> str:
    """Kubernetes' default plural of a kind (lower case, English rules used by kubebuilder)."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"


@cache
def builtin() -> Catalog:
    """The catalog of the pinned Kubernetes version (loaded once per process)."""
    data = resources.files("gitward.policy").joinpath("data", _SNAPSHOT).read_bytes()
    snapshot = orjson.loads(gzip.decompress(data))
    kinds: dict[GroupKind, KindInfo] = {}
    for group, kind, plural, namespaced, versions in snapshot["kinds"]:
        schemas = {version: {"$ref": f"#/$defs/{ref}"} for version, ref in versions.items()}
        kinds[GroupKind(group, kind)] = KindInfo(group, kind, plural, namespaced, schemas)
    return Catalog(kinds, snapshot["definitions"], snapshot["kubernetes"])


def empty() -> Catalog:
    return Catalog({})
