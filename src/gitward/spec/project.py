"""Parse an Argo CD ``AppProject`` document into a :class:`~gitward.model.project.ProjectSpec`.

The document is read unchanged (``argoproj.io/v1alpha1``, or ``gitward.dev/v1alpha1``
with the same fields). Fields that restrict what may be deployed are honoured; fields
about Argo CD's own API (``roles``, ``description``) do not apply to gitward and are
skipped; restricting fields gitward does not implement yet are an error naming them,
because silently ignoring a restriction would deploy what the project forbids.
"""

from __future__ import annotations

import re

from gitward.errors import ConfigError
from gitward.model.project import DestinationPattern, KindPattern, ProjectSpec
from gitward.spec.application import _Reader

PROJECT_API_VERSIONS = ("argoproj.io/v1alpha1", "gitward.dev/v1alpha1")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_SKIPPED = ("description", "roles", "orphanedResources", "sourceNamespaces")
_NOT_YET = {
    "syncWindows": "sync windows",
    "signatureKeys": "commit signature keys per project",
    "destinationServiceAccounts": "impersonation by destination service accounts",
    "permitOnlyProjectScopedClusters": "project-scoped clusters",
}


def parse_project(doc: object, origin: str = "<project>") -> ProjectSpec:
    """A ProjectSpec from one parsed document; ConfigError names any bad field."""
    root = _Reader(doc, "", origin)
    api_version = root.str_("apiVersion", required=True)
    kind = root.str_("kind", required=True)
    if api_version not in PROJECT_API_VERSIONS or kind != "AppProject":
        raise ConfigError(
            f"{origin}: expected kind AppProject in {' or '.join(PROJECT_API_VERSIONS)}, "
            f"got {kind} in {api_version}"
        )
    metadata = root.child("metadata") or _Reader({}, "metadata", origin)
    name = metadata.str_("name", required=True) or ""
    if not _NAME.match(name) or len(name) > 253:
        raise metadata.fail("name", f"{name!r} is not a valid project name")
    for key in ("namespace", "labels", "annotations", "finalizers"):
        metadata.get(key)
    spec = root.child("spec") or _Reader({}, "spec", origin)
    for key in _SKIPPED:
        spec.get(key)
    for key, what in _NOT_YET.items():
        if spec.data.get(key):
            raise spec.fail(key, f"is not supported by gitward yet ({what})")
        spec.get(key)
    root.get("status")
    project = ProjectSpec(
        name=name,
        source_repos=spec.strings("sourceRepos"),
        destinations=tuple(_destination(r) for r in spec.items("destinations")),
        cluster_whitelist=_kinds(spec, "clusterResourceWhitelist") or (),
        cluster_blacklist=_kinds(spec, "clusterResourceBlacklist") or (),
        namespace_whitelist=_kinds(spec, "namespaceResourceWhitelist"),
        namespace_blacklist=_kinds(spec, "namespaceResourceBlacklist") or (),
        origin=origin,
    )
    for reader in (metadata, spec, root):
        reader.finish()
    return project


def _destination(r: _Reader) -> DestinationPattern:
    pattern = DestinationPattern(
        server=r.str_("server"), name=r.str_("name"), namespace=r.str_("namespace")
    )
    if pattern.server is None and pattern.name is None:
        raise r.fail("server", "or name is required: which clusters does this entry allow?")
    r.finish()
    return pattern


def _kinds(spec: _Reader, key: str) -> tuple[KindPattern, ...] | None:
    if spec.data.get(key) is None:
        spec.get(key)
        return None
    patterns = []
    for r in spec.items(key):
        patterns.append(KindPattern(r.str_("group", "") or "", r.str_("kind", required=True) or ""))
        r.finish()
    return tuple(patterns)
