"""Flux's documents, read unchanged, as gitward apps.

A declaration folder (or Git path) may hold Flux's ``GitRepository`` and
``Kustomization`` documents next to Applications. :class:`FluxDocuments` collects them
while :mod:`gitward.spec.declarations` reads the files, then :meth:`FluxDocuments.apps`
turns each Kustomization into an :class:`~gitward.model.AppSpec` with the source it
references: sources first (:mod:`.sources`), then the apps (:mod:`.kustomization`), so
the order of files does not matter. Pure translation: nothing here reads a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.model import AppSpec
from gitward.spec.flux.kustomization import KUSTOMIZE_GROUP, parse_kustomization
from gitward.spec.flux.reader import FluxReader, root_reader
from gitward.spec.flux.sources import SOURCE_GROUP, FluxSource, parse_git_repository

# Kinds gitward reads, with the API versions it accepts for them.
KINDS: dict[str, tuple[str, ...]] = {
    "GitRepository": (f"{SOURCE_GROUP}/v1", f"{SOURCE_GROUP}/v1beta2"),
    "Kustomization": (f"{KUSTOMIZE_GROUP}/v1", f"{KUSTOMIZE_GROUP}/v1beta2"),
}
_GROUPS = (SOURCE_GROUP, KUSTOMIZE_GROUP, "helm.toolkit.fluxcd.io")
_APP_KINDS = ("Kustomization",)


def is_flux(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` belongs to one of Flux's API groups (known kind or not)."""
    group = str(doc.get("apiVersion", "")).partition("/")[0]
    return group in _GROUPS


@dataclass
class FluxDocuments:
    """The Flux documents of one set of declarations, in the order they were read."""

    documents: list[tuple[str, FluxReader, str, str]] = field(default_factory=list)

    def add(self, origin: str, doc: Mapping[str, Any]) -> None:
        """Check kind, version and name now; translate in :meth:`apps`."""
        root = root_reader(doc, origin)
        kind = root.str_("kind", required=True) or ""
        api_version = root.str_("apiVersion", required=True) or ""
        if api_version not in KINDS.get(kind, ()):
            raise ConfigError(
                f"{origin}: {kind} in {api_version} is not a Flux document gitward reads",
                hint="gitward reads "
                + "; ".join(f"{k} ({', '.join(v)})" for k, v in KINDS.items()),
            )
        metadata = root.child("metadata") or FluxReader({}, "metadata", origin, kind)
        name = metadata.str_("name", required=True) or ""
        namespace = metadata.str_("namespace") or "default"
        metadata.finish()
        self.documents.append((kind, root, namespace, name))

    def apps(self) -> list[tuple[AppSpec, str]]:
        """Every app the documents declare, with the file each came from."""
        sources = self._sources()
        apps = []
        for kind, root, namespace, name in self.documents:
            if kind in _APP_KINDS:
                app = parse_kustomization(root, namespace, name, sources)
                root.finish()
                apps.append((app, root.origin))
        return apps

    def _sources(self) -> dict[tuple[str, str, str], FluxSource]:
        sources: dict[tuple[str, str, str], FluxSource] = {}
        for kind, root, namespace, name in self.documents:
            if kind in _APP_KINDS:
                continue
            source = parse_git_repository(root, namespace, name)
            root.finish()
            key = (kind, namespace, name)
            if key in sources:
                raise ConfigError(
                    f"{source.ref} is declared twice: in {sources[key].origin} and {root.origin}"
                )
            sources[key] = source
        return sources
