"""What a project allows its applications: Argo CD's ``AppProject`` rules as values.

Field names and meanings follow Argo CD so that an ``AppProject`` document works
unchanged: globs everywhere, a leading ``!`` negates an entry of ``sourceRepos`` or
``destinations``, cluster-scoped kinds are denied unless whitelisted, namespaced kinds
are allowed unless a whitelist is given. Parsing lives in :mod:`gitward.spec.project`;
the checks in :mod:`gitward.policy.project`.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class KindPattern:
    """A ``{group, kind}`` entry of a resource white- or blacklist (globs)."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group or '(core)'}/{self.kind}"


@dataclass(frozen=True)
class DestinationPattern:
    """An allowed (or, with ``!``, denied) destination: cluster server or name, namespace."""

    server: str | None = None
    name: str | None = None
    namespace: str | None = None

    def __str__(self) -> str:
        cluster = self.name if self.name is not None else self.server or "*"
        return f"cluster {cluster}, namespace {self.namespace or '*'}"


@dataclass(frozen=True)
class ProjectSpec:
    """One project. ``origin`` says where it was declared, for messages."""

    name: str
    source_repos: tuple[str, ...] = ()
    destinations: tuple[DestinationPattern, ...] = ()
    cluster_whitelist: tuple[KindPattern, ...] = ()
    cluster_blacklist: tuple[KindPattern, ...] = ()
    namespace_whitelist: tuple[KindPattern, ...] | None = None  # None: every kind allowed
    namespace_blacklist: tuple[KindPattern, ...] = ()
    origin: str = ""

    @classmethod
    def allow_all(cls, name: str = DEFAULT_PROJECT) -> ProjectSpec:
        """Argo CD's built-in ``default`` project: anything from anywhere to anywhere."""
        return cls(
            name,
            source_repos=("*",),
            destinations=(DestinationPattern(server="*", name="*", namespace="*"),),
            cluster_whitelist=(KindPattern("*", "*"),),
            origin="built-in",
        )
