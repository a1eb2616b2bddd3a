"""Generators: parameter sets from lists, clusters, Git trees, and their combinations.

Each generator yields :class:`Params`: the values a template sees and where they came
from (``list element 2``, ``git directory apps/web``), so that an error (a missing key,
a duplicate name) names its source. Values are nested as Go templates see them
(``{"path": {"basename": "web"}}``); :func:`template_data` flattens them for Argo CD's
default syntax (``path.basename``). The Git generators read a checked-out tree that
:mod:`gitward.appsets.expand` resolves; everything else here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from gitward.appsets.funcs import TemplateError
from gitward.appsets.gitpaths import glob_dirs, glob_files, read_params
from gitward.appsets.model import (
    ClustersGenerator,
    Generator,
    GitGenerator,
    ListGenerator,
    MatrixGenerator,
    MergeGenerator,
)
from gitward.appsets.parse import reparse
from gitward.appsets.templates import flatten, render_tree
from gitward.errors import ConfigError

if TYPE_CHECKING:
    from gitward.spec.clusters import ClusterSpec

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
Tree = Callable[[str, str], Path]  # (repoURL, revision) -> checked-out directory


@dataclass(frozen=True)
class Params:
    values: Mapping[str, Any]
    source: str


@dataclass(frozen=True)
class Context:
    """What generators read besides their own spec."""

    clusters: Mapping[str, ClusterSpec]
    tree: Tree
    go: bool
    servers: Callable[[ClusterSpec], str] = lambda _c: ""


def template_data(values: Mapping[str, Any], *, go: bool) -> Mapping[str, Any]:
    """The parameters as the template syntax in use sees them."""
    if go:
        return values
    flat = flatten(values)
    for key in list(flat):  # Argo CD's flat names for the Git path values
        if key == "path.path":
            flat["path"] = flat.pop(key)
        elif key.startswith("path.segments["):
            flat["path" + key.removeprefix("path.segments")] = flat.pop(key)
    return flat


def generate(generator: Generator, ctx: Context) -> list[Params]:
    """Every parameter set of ``generator``, filtered by its ``selector``."""
    spec = generator.spec
    if isinstance(spec, ListGenerator):
        found = [Params(dict(e), f"list element {i}") for i, e in enumerate(spec.elements)]
    elif isinstance(spec, ClustersGenerator):
        found = _clusters(spec, ctx)
    elif isinstance(spec, GitGenerator):
        found = _git(spec, ctx)
    elif isinstance(spec, MatrixGenerator):
        found = _matrix(spec, ctx)
    else:
        found = _merge(spec, ctx)
    if generator.selector is not None:
        selector = generator.selector
        found = [p for p in found if selector.matches(flatten(p.values))]
    return found


def _clusters(spec: ClustersGenerator, ctx: Context) -> list[Params]:
    found: list[Params] = []
    candidates = [(c.name, dict(c.labels), ctx.servers(c)) for c in ctx.clusters.values()]
    if spec.selector.empty and "in-cluster" not in ctx.clusters:
        candidates.append(("in-cluster", {}, IN_CLUSTER_SERVER))  # Argo CD's local cluster
    for name, labels, server in sorted(candidates):
        if not spec.selector.matches(labels):
            continue
        values: dict[str, Any] = {
            "name": name,
            "nameNormalized": _normalized(name),
            "server": server,
            "project": "",
            "metadata": {"labels": labels, "annotations": {}},
        }
        found.append(Params(_with_values(values, spec.values, ctx), f"cluster {name}"))
    return found


def _git(spec: GitGenerator, ctx: Context) -> list[Params]:
    root = ctx.tree(spec.repo_url, spec.revision)
    where = f"{spec.repo_url} at {spec.revision}"
    found: list[Params] = []
    if spec.directories:
        for path in glob_dirs(root, spec.directories, where):
            values = _with_values({"path": _path_values(path)}, spec.values, ctx)
            found.append(Params(values, f"git directory {path}"))
        return found
    for pattern in spec.files:
        for path in glob_files(root, pattern, where):
            for i, content in enumerate(read_params(root, path)):
                values = {**content, "path": _path_values(str(PurePosixPath(path).parent), path)}
                suffix = f"[{i}]" if i else ""
                values = _with_values(values, spec.values, ctx)
                found.append(Params(values, f"git file {path}{suffix}"))
    return found


def _path_values(directory: str, file: str | None = None) -> dict[str, Any]:
    segments = [] if directory in ("", ".") else directory.split("/")
    basename = segments[-1] if segments else ""
    values: dict[str, Any] = {
        "path": directory,
        "basename": basename,
        "basenameNormalized": _normalized(basename),
        "segments": segments,
    }
    if file is not None:
        name = PurePosixPath(file).name
        values |= {"filename": name, "filenameNormalized": _normalized(name)}
    return values


def _normalized(text: str) -> str:
    """Argo CD's ``*Normalized`` values: lowercase, invalid DNS characters become ``-``."""
    return re.sub(r"[^a-z0-9.-]", "-", text.lower())


def _with_values(
    values: dict[str, Any], extra: Sequence[tuple[str, str]], ctx: Context
) -> dict[str, Any]:
    """Add a generator's ``values`` (templates over its own parameters) as ``values.*``."""
    if not extra:
        return values
    data = template_data(values, go=ctx.go)
    return {**values, "values": {k: render_tree(v, data, go=ctx.go) for k, v in extra}}


def _matrix(spec: MatrixGenerator, ctx: Context) -> list[Params]:
    combined: list[Params] = []
    templated = "{{" in repr(spec.second_raw)
    second = None if templated else generate(spec.second, ctx)
    for first in generate(spec.first, ctx):
        if second is None:
            data = template_data(first.values, go=ctx.go)
            child = reparse(render_tree(spec.second_raw, data, go=ctx.go), spec.second)
            rows = generate(child, ctx)
        else:
            rows = second
        for other in rows:
            values = _combine(first, other, spec.second.where)
            combined.append(Params(values, f"{first.source} and {other.source}"))
    return combined


def _combine(first: Params, second: Params, where: str) -> dict[str, Any]:
    """Both parameter sets in one; a key both hold with different values is an error."""
    merged = dict(first.values)
    for key, value in second.values.items():
        if key in merged and merged[key] != value:
            raise ConfigError(
                f"{where}: matrix parameter {key!r} is {merged[key]!r} from {first.source} "
                f"but {value!r} from {second.source}",
                hint="rename the key in one of the two generators",
            )
        merged[key] = value
    return merged


def _merge(spec: MergeGenerator, ctx: Context) -> list[Params]:
    base, *others = (generate(child, ctx) for child in spec.children)
    result = [dict(p.values) for p in base]
    keys = [_merge_key(p, spec.merge_keys, spec.children[0]) for p in base]
    for child, rows in zip(spec.children[1:], others, strict=True):
        by_key: dict[tuple[str, ...], Params] = {}
        for row in rows:
            key = _merge_key(row, spec.merge_keys, child)
            if key in by_key:
                raise ConfigError(
                    f"{child.where}: {by_key[key].source} and {row.source} share the merge "
                    f"key values {list(key)}",
                    hint="merge keys must identify one parameter set per generator",
                )
            by_key[key] = row
        for i, key in enumerate(keys):
            if key in by_key:
                result[i] = _deep_merge(result[i], by_key[key].values)
    return [Params(v, p.source) for v, p in zip(result, base, strict=True)]


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``; nested mappings (``values``) merge key by key."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_key(params: Params, keys: Sequence[str], child: Generator) -> tuple[str, ...]:
    flat = flatten(params.values)
    missing = [k for k in keys if k not in flat]
    if missing:
        raise TemplateError(
            f"{child.where}: {params.source} has no merge key {missing[0]!r}", key=missing[0]
        )
    return tuple(flat[k] for k in keys)


def walk(generators: Sequence[Generator]) -> Iterator[Generator]:
    """Every generator, nested ones included (to find the Git repositories a set reads)."""
    for generator in generators:
        yield generator
        spec = generator.spec
        if isinstance(spec, MatrixGenerator):
            yield from walk((spec.first, spec.second))
        elif isinstance(spec, MergeGenerator):
            yield from walk(spec.children)
