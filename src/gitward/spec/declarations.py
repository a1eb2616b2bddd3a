"""Parse a set of declarations: ``Application``, ``Cluster``, ``AppProject``,
``ApplicationSet`` (parsed by :mod:`gitward.appsets.parse`) and ``RolePolicy``
(:mod:`gitward.spec.roles`; a broken one does not fail the revision) documents.
Flux's documents are read by :mod:`gitward.spec.flux`.

``gitward serve --config`` reads every YAML file of a folder (or of a path in a Git
repository) and hands the parsed documents here. Other kinds are an error naming the
file, so a typo in a kind is not silently ignored; two apps or clusters with the same
name are an error naming both files. Files are read within the bounds of
:mod:`gitward.loading` (size, YAML alias expansion): a declaration repository is as
hostile as any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitward.appsets.model import AppSetSpec
from gitward.appsets.parse import APPSET_API_VERSIONS, parse_appset
from gitward.errors import ConfigError
from gitward.loading import LimitExceeded, check_length, load_all
from gitward.model import AppSpec
from gitward.model.images import ImageAutomation
from gitward.model.project import ProjectSpec
from gitward.spec.application import API_VERSIONS, parse_application
from gitward.spec.clusters import (  # ClusterSpec and parse_cluster: re-exported
    CLUSTER_API_VERSION,
    ClusterSpec,
    is_argo_cluster_secret,
    parse_argo_cluster_secret,
    parse_cluster,
)
from gitward.spec.flux import FluxDocuments, is_flux
from gitward.spec.images import is_image_document, parse_images
from gitward.spec.project import PROJECT_API_VERSIONS, parse_project
from gitward.spec.roles import (
    ROLE_POLICY_API_VERSION,
    RolesFound,
    is_role_policy,
    read_role_documents,
)

__all__ = [
    "CLUSTER_API_VERSION",
    "ClusterSpec",
    "Declarations",
    "parse_cluster",
    "parse_declarations",
    "read_documents",
]


@dataclass(frozen=True)
class Declarations:
    apps: dict[str, AppSpec] = field(default_factory=dict)
    clusters: dict[str, ClusterSpec] = field(default_factory=dict)
    projects: dict[str, ProjectSpec] = field(default_factory=dict)
    images: ImageAutomation = field(default_factory=ImageAutomation)  # Flux image automation
    appsets: dict[str, AppSetSpec] = field(default_factory=dict)  # generate more apps
    roles: RolesFound | None = None  # the RolePolicy (gitward.spec.roles), parsed or not


def read_documents(path: Path, origin: str | None = None) -> list[object]:
    """The non-empty YAML (or JSON) documents of a declaration file, bounded.

    ``origin`` names the file in errors (default: the path).
    """
    where = origin or str(path)
    try:
        check_length(path.stat().st_size, what="the file")
        documents = load_all(path.read_text(encoding="utf-8"))
    except LimitExceeded as e:
        line = f":{e.line}" if e.line else ""
        raise ConfigError(f"{where}{line}: {e.message}", hint=e.hint) from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise ConfigError(f"cannot read {where}: {e.strerror}") from e
    return [doc for doc in documents if doc is not None]


def parse_declarations(documents: Iterable[tuple[str, object]]) -> Declarations:
    """Apps and clusters from ``(origin, document)`` pairs; duplicates name both origins."""
    apps: dict[str, tuple[AppSpec, str]] = {}
    clusters: dict[str, tuple[ClusterSpec, str]] = {}
    projects: dict[str, tuple[ProjectSpec, str]] = {}
    documents = list(documents)  # read twice: image automation looks up GitRepositories
    appsets: dict[str, tuple[AppSetSpec, str]] = {}
    flux = FluxDocuments()
    for origin, doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            raise ConfigError(f"{origin}: a declaration must be a mapping")
        kind, api_version = doc.get("kind"), doc.get("apiVersion")
        if kind == "Application" and api_version in API_VERSIONS:
            app = parse_application(doc, origin)
            _add(apps, app.name, app, origin, "Application")
        elif kind == "Cluster" and api_version == CLUSTER_API_VERSION:
            cluster = parse_cluster(doc, origin)
            _add(clusters, cluster.name, cluster, origin, "Cluster")
        elif is_argo_cluster_secret(doc):
            cluster = parse_argo_cluster_secret(doc, origin)
            _add(clusters, cluster.name, cluster, origin, "Cluster")
        elif kind == "AppProject" and api_version in PROJECT_API_VERSIONS:
            project = parse_project(doc, origin)
            _add(projects, project.name, project, origin, "AppProject")
        elif is_image_document(doc) or is_role_policy(doc):
            continue  # parse_images and read_role_documents, below
        elif kind == "ApplicationSet" and api_version in APPSET_API_VERSIONS:
            appset = parse_appset(doc, origin)
            _add(appsets, appset.name, appset, origin, "ApplicationSet")
        elif is_flux(doc):
            flux.add(origin, doc)
        else:
            raise ConfigError(
                f"{origin}: {kind} in {api_version} is not a gitward declaration",
                hint=f"use kind Application ({' or '.join(API_VERSIONS)}), Cluster "
                f"({CLUSTER_API_VERSION}, or an Argo CD cluster Secret), AppProject "
                f"({PROJECT_API_VERSIONS[0]}), ApplicationSet ({APPSET_API_VERSIONS[0]}), "
                f"RolePolicy ({ROLE_POLICY_API_VERSION}), or "
                "Flux's GitRepository, OCIRepository, HelmRepository, HelmChart, "
                "Kustomization or HelmRelease",
            )
    for app, origin in flux.apps():
        _add(apps, app.name, app, origin, "app")
    declared_apps = {k: v for k, (v, _) in apps.items()}
    declarations = Declarations(
        declared_apps,
        {k: v for k, (v, _) in clusters.items()},
        {k: v for k, (v, _) in projects.items()},
        parse_images(documents, declared_apps),
        {k: v for k, (v, _) in appsets.items()},
        read_role_documents(
            [(o, d) for o, d in documents if isinstance(d, Mapping) and is_role_policy(d)]
        ),
    )
    _check_references(declarations, {k: o for k, (_, o) in apps.items()})
    _check_projects(declarations)
    return declarations


def _add(table: dict[str, Any], name: str, value: object, origin: str, what: str) -> None:
    if name in table:
        raise ConfigError(f"{what} {name!r} is declared twice: in {table[name][1]} and {origin}")
    table[name] = (value, origin)


def _check_references(declarations: Declarations, origins: Mapping[str, str]) -> None:
    # An undeclared destination cluster is an error on that app alone, when it
    # reconciles (gitward.connections): the other apps of the revision still deploy.
    for name, app in declarations.apps.items():
        for dependency in app.depends_on:
            if dependency not in declarations.apps:
                raise ConfigError(f"{origins[name]}: dependsOn names unknown app {dependency!r}")
    cycle = _cycle({name: app.depends_on for name, app in declarations.apps.items()})
    if cycle:
        raise ConfigError(
            f"dependsOn forms a cycle: {' -> '.join(cycle)}",
            hint="these apps would wait for each other forever; break the cycle",
        )


def _check_projects(declarations: Declarations) -> None:
    """A project naming an unknown cluster, or an app naming an unknown project, is an error.

    Globs may match no cluster yet; a plain name must be declared (or ``in-cluster``).
    Without any AppProject, apps keep Argo CD's permissive ``default`` project.
    """
    for project in declarations.projects.values():
        for destination in project.destinations:
            name = (destination.name or "").removeprefix("!")
            plain = name and not set(name) & set("*?[") and name != "in-cluster"
            if plain and name not in declarations.clusters:
                raise ConfigError(
                    f"{project.origin}: AppProject {project.name!r} names cluster "
                    f"{name!r} in its destinations, which is not declared",
                    hint="add a Cluster document with that name, or fix the name",
                )
    if not declarations.projects:
        return
    for app in declarations.apps.values():
        if app.project != "default" and app.project not in declarations.projects:
            raise ConfigError(
                f"Application {app.name!r} names project {app.project!r}, which is not "
                f"declared (known: {', '.join(sorted(declarations.projects))})"
            )


def _cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str]:
    """One dependency cycle as a path (first node repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []
