"""What a cluster serves: resources by group and kind, from API discovery."""

from __future__ import annotations

from dataclasses import dataclass

from gitward.model.resource import GroupKind


@dataclass(frozen=True)
class ApiResource:
    """One served resource: how to address objects of a kind."""

    group: str
    version: str  # the preferred (or only) served version
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str] = frozenset()

    @property
    def group_kind(self) -> GroupKind:
        return GroupKind(self.group, self.kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        """The URL path of the collection (in ``namespace`` when given and namespaced)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection_path(namespace)}/{name}"
