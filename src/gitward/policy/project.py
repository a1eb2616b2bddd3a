"""Project rules: may this app take objects from this repository to this place?

Argo CD's ``AppProject`` semantics (see :mod:`gitward.model.project`): the app's source
repository must match ``sourceRepos``; its destination, and the namespace of every
namespaced object it renders, must match ``destinations``; cluster-scoped kinds need an
entry in ``clusterResourceWhitelist`` and none in ``clusterResourceBlacklist``; namespaced
kinds are allowed unless ``namespaceResourceWhitelist`` is given and omits them, or the
blacklist names them. Every broken rule is a ``deny`` violation: a project is a fence,
not advice. Pure: the caller says which kinds are namespaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase

from gitward.model import AppSpec, GroupKind, Resource
from gitward.model.policy import PolicyKind, PolicyMode, Violation
from gitward.model.project import DestinationPattern, KindPattern, ProjectSpec

IN_CLUSTER = "in-cluster"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"

# Whether objects of a kind are namespaced; None when the kind is unknown.
Scope = Callable[[GroupKind], bool | None]


def check_project(
    project: ProjectSpec, app: AppSpec, resources: Sequence[Resource], scope: Scope
) -> list[Violation]:
    """Every way ``app`` and its rendered ``resources`` break ``project``'s rules."""
    policy = f"AppProject/{project.name}"
    found = [*_source(project, app, policy), *_destination(project, app, policy)]
    default_namespace = app.destination.namespace or "default"
    for resource in resources:
        namespaced = scope(resource.key.group_kind)
        if namespaced is None:  # unknown kind: where it says it goes decides
            namespaced = bool(resource.key.namespace)
        found.extend(_kind(project, resource, namespaced, policy))
        if namespaced:
            namespace = resource.key.namespace or default_namespace
            if not _destination_allowed(project.destinations, app, namespace):
                found.append(
                    _violation(
                        resource,
                        policy,
                        "destinations",
                        f"namespace {namespace!r} on cluster {_cluster(app)!r} is not a "
                        f"permitted destination of project {project.name!r}",
                    )
                )
    return found


def _violation(resource: Resource | None, policy: str, rule: str, message: str) -> Violation:
    return Violation(
        resource.key if resource else None,
        policy,
        rule,
        message,
        PolicyMode.DENY,
        PolicyKind.PROJECT,
        resource.source if resource else None,
    )


def _source(project: ProjectSpec, app: AppSpec, policy: str) -> list[Violation]:
    """Every source's repository, ref sources of a multi-source app included (their files
    reach the render as values files)."""
    found: list[Violation] = []
    for url in dict.fromkeys(source.repo_url for source in app.all_sources()):
        if _permitted(project.source_repos, _repo_matcher(url)):
            continue
        found.append(
            _violation(
                None,
                policy,
                "sourceRepos",
                f"source repository {url!r} is not permitted in project {project.name!r}"
                f" (sourceRepos: {', '.join(project.source_repos) or 'none'})",
            )
        )
    return found


def _repo_matcher(url: str) -> Callable[[str], bool]:
    return lambda pattern: fnmatchcase(_repo(url), _repo(pattern))


def _destination(project: ProjectSpec, app: AppSpec, policy: str) -> list[Violation]:
    namespace = app.destination.namespace or ""
    if _destination_allowed(project.destinations, app, namespace):
        return []
    allowed = "; ".join(str(d) for d in project.destinations) or "none"
    return [
        _violation(
            None,
            policy,
            "destinations",
            f"destination cluster {_cluster(app)!r}, namespace {namespace or '(none)'!r} is "
            f"not permitted in project {project.name!r} (destinations: {allowed})",
        )
    ]


def _destination_allowed(
    patterns: Sequence[DestinationPattern], app: AppSpec, namespace: str
) -> bool:
    server = app.destination.server or (IN_CLUSTER_SERVER if _cluster(app) == IN_CLUSTER else "")

    def matches(pattern: DestinationPattern) -> bool:
        cluster_ok = (
            pattern.name is not None and fnmatchcase(_cluster(app), _positive(pattern.name))
        ) or (pattern.server is not None and fnmatchcase(server, _positive(pattern.server)))
        return cluster_ok and fnmatchcase(namespace, _positive(pattern.namespace or "*"))

    negated = [p for p in patterns if _negated(p)]
    if any(matches(p) for p in negated):
        return False
    return any(matches(p) for p in patterns if not _negated(p))


def _negated(pattern: DestinationPattern) -> bool:
    return any((v or "").startswith("!") for v in (pattern.server, pattern.name, pattern.namespace))


def _kind(
    project: ProjectSpec, resource: Resource, namespaced: bool, policy: str
) -> list[Violation]:
    gk = resource.key.group_kind
    where = "namespaced" if namespaced else "cluster-scoped"
    prefix = "namespace" if namespaced else "cluster"
    whitelist = project.namespace_whitelist if namespaced else project.cluster_whitelist
    blacklist = project.namespace_blacklist if namespaced else project.cluster_blacklist
    if whitelist is not None and not _kind_listed(whitelist, gk):
        rule, why = f"{prefix}ResourceWhitelist", "does not list it"
    elif _kind_listed(blacklist, gk):
        rule, why = f"{prefix}ResourceBlacklist", "denies it"
    else:
        return []
    return [
        _violation(
            resource,
            policy,
            rule,
            f"{where} kind {gk} is not permitted in project {project.name!r} ({rule} {why})",
        )
    ]


def _kind_listed(patterns: Iterable[KindPattern], gk: GroupKind) -> bool:
    return any(fnmatchcase(gk.group, p.group) and fnmatchcase(gk.kind, p.kind) for p in patterns)


def _permitted(patterns: Sequence[str], matches: Callable[[str], bool]) -> bool:
    """Argo CD's rule for lists with ``!`` entries: any negated match denies."""
    if any(p.startswith("!") and matches(p[1:]) for p in patterns):
        return False
    return any(not p.startswith("!") and matches(p) for p in patterns)


def _positive(pattern: str) -> str:
    return pattern[1:] if pattern.startswith("!") else pattern


def _repo(url: str) -> str:
    """Compare repository URLs as Argo CD does: case-insensitive, without ``.git`` or ``/``."""
    url = url.strip().lower().rstrip("/")
    return url.removesuffix(".git")


def _cluster(app: AppSpec) -> str:
    return app.destination.name or IN_CLUSTER
