"""An ``ApplicationSet`` as gitward reads it: typed generators and a raw template.

The template stays a raw mapping: it is rendered once per parameter set
(:mod:`gitward.appsets.templates`) and only then parsed as an Application, so its
strings may hold templates anywhere. Generators are typed and checked when the
declarations load, so a bad generator is reported before anything is generated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitward.model.selectors import Selector


@dataclass(frozen=True)
class ListGenerator:
    elements: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class ClustersGenerator:
    selector: Selector = field(default_factory=Selector)
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GitDirectory:
    path: str
    exclude: bool = False


@dataclass(frozen=True)
class GitGenerator:
    repo_url: str
    revision: str = "HEAD"
    directories: tuple[GitDirectory, ...] = ()
    files: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MatrixGenerator:
    """Two children; every parameter set of the first with every one of the second.

    ``second_raw`` is the second child as written, rendered with each parameter set of
    the first when it holds templates (Argo CD lets the second child use them)."""

    first: Generator
    second: Generator
    second_raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeGenerator:
    """The first child's parameter sets, each overridden by the later children's sets
    that agree with it on every merge key."""

    children: tuple[Generator, ...]
    merge_keys: tuple[str, ...]


@dataclass(frozen=True)
class Generator:
    """One entry of ``spec.generators`` (or of a matrix/merge), with where it was written."""

    where: str  # e.g. "spec.generators[1].matrix.generators[0]"
    kind: str  # list, clusters, git, matrix, merge
    spec: ListGenerator | ClustersGenerator | GitGenerator | MatrixGenerator | MergeGenerator
    template: Mapping[str, Any] | None = None  # overrides the set's template
    selector: Selector | None = None  # a filter over the generated parameters


@dataclass(frozen=True)
class AppSetSpec:
    name: str
    origin: str  # the file it was read from
    generators: tuple[Generator, ...]
    template: Mapping[str, Any]
    go_template: bool = False
    preserve_resources: bool = False  # syncPolicy.preserveResourcesOnDeletion

    @property
    def owner(self) -> str:
        """What the generated apps carry in :attr:`AppSpec.owner`."""
        return f"ApplicationSet/{self.name}"
