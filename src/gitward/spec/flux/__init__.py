"""Flux's documents, read unchanged, as gitward apps.

A declaration folder (or Git path) may hold Flux's documents next to Applications.
:class:`FluxDocuments` collects them while :mod:`gitward.spec.declarations` reads the
files, then :meth:`FluxDocuments.apps` turns each ``Kustomization`` and ``HelmRelease``
into an :class:`~gitward.model.AppSpec` with the source it references: repositories
first (:mod:`.sources`, :mod:`.charts`), then HelmCharts (they name repositories), then
the apps (:mod:`.kustomization`, :mod:`.helmrelease`), so the order of files does not
matter. Pure translation: nothing here reads a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.errors import ConfigError
from gitward.model import AppSpec
from gitward.spec.flux.charts import (
    parse_helm_chart,
    parse_helm_repository,
    parse_oci_repository,
)
from gitward.spec.flux.helmrelease import HELM_GROUP, parse_helm_release
from gitward.spec.flux.kustomization import KUSTOMIZE_GROUP, parse_kustomization
from gitward.spec.flux.reader import FluxReader, root_reader
from gitward.spec.flux.sources import SOURCE_GROUP, FluxSource, parse_git_repository

_SOURCE_VERSIONS = (f"{SOURCE_GROUP}/v1", f"{SOURCE_GROUP}/v1beta2")
# Kinds gitward reads, with the API versions it accepts for them.
KINDS: dict[str, tuple[str, ...]] = {
    "GitRepository": _SOURCE_VERSIONS,
    "OCIRepository": _SOURCE_VERSIONS,
    "HelmRepository": _SOURCE_VERSIONS,
    "HelmChart": _SOURCE_VERSIONS,
    "Kustomization": (f"{KUSTOMIZE_GROUP}/v1", f"{KUSTOMIZE_GROUP}/v1beta2"),
    "HelmRelease": (f"{HELM_GROUP}/v2", f"{HELM_GROUP}/v2beta2"),
}
_GROUPS = (SOURCE_GROUP, KUSTOMIZE_GROUP, HELM_GROUP)
_APPS = {"Kustomization": parse_kustomization, "HelmRelease": parse_helm_release}
_REPOSITORIES = {
    "GitRepository": parse_git_repository,
    "OCIRepository": parse_oci_repository,
    "HelmRepository": parse_helm_repository,
}


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
            if kind in _APPS:
                app = _APPS[kind](root, namespace, name, sources)
                root.finish()
                apps.append((app, root.origin))
        return apps

    def _sources(self) -> dict[tuple[str, str, str], FluxSource]:
        """Repositories, then HelmCharts (which name repositories)."""
        sources: dict[tuple[str, str, str], FluxSource] = {}
        for kind, root, namespace, name in self.documents:
            if kind in _REPOSITORIES:
                _add(sources, _REPOSITORIES[kind](root, namespace, name), root)
        for kind, root, namespace, name in self.documents:
            if kind == "HelmChart":
                _add(sources, parse_helm_chart(root, namespace, name, sources), root)
        return sources


def _add(
    sources: dict[tuple[str, str, str], FluxSource], source: FluxSource, root: FluxReader
) -> None:
    root.finish()
    key = (source.kind, source.namespace, source.name)
    if key in sources:
        raise ConfigError(
            f"{source.ref} is declared twice: in {sources[key].origin} and {root.origin}"
        )
    sources[key] = source
