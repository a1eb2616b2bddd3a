"""Parse an ``ApplicationSet`` document (Argo CD's ``argoproj.io/v1alpha1``, or
``gitward.dev/v1alpha1``) into an :class:`~gitward.appsets.model.AppSetSpec`.

Argo CD's field names are accepted unchanged. A field gitward does not know is an error
naming it; a generator kind or option Argo CD has and gitward does not (``pullRequest``,
``scmProvider``, ``templatePatch``...) is an error saying so, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitward.appsets.model import (
    AppSetSpec,
    ClustersGenerator,
    Generator,
    GitDirectory,
    GitGenerator,
    ListGenerator,
    MatrixGenerator,
    MergeGenerator,
)
from gitward.errors import ConfigError
from gitward.model.selectors import Operator, Requirement, Selector
from gitward.spec.application import _Reader

APPSET_API_VERSIONS = ("argoproj.io/v1alpha1", "gitward.dev/v1alpha1")
KINDS = ("list", "clusters", "git", "matrix", "merge")
# Argo CD has these; gitward does not yet.
_NOT_YET = {
    "pullRequest": "the pull request generator",
    "scmProvider": "the SCM provider generator",
    "clusterDecisionResource": "the cluster decision resource generator",
    "plugin": "generator plugins",
    "templatePatch": "template patches",
    "strategy": "progressive sync strategies (use the fleet's staged rollouts)",
    "ignoreApplicationDifferences": "ignoreApplicationDifferences",
    "applicationsSync": "applicationsSync policies",
    "pathParamPrefix": "pathParamPrefix",
    "elementsYaml": "elementsYaml (write the elements as a list)",
}
_IGNORED = ("namespace", "labels", "annotations", "finalizers", "uid", "resourceVersion")
# Argo CD allows one level of nesting: a matrix or merge inside a matrix or merge.
MAX_NESTING = 1


def parse_appset(doc: Mapping[str, Any], origin: str) -> AppSetSpec:
    root = _Reader(doc, "", origin)
    root.str_("apiVersion", required=True)
    root.str_("kind", required=True)
    root.get("status")
    metadata = root.child("metadata") or _Reader({}, "metadata", origin)
    name = metadata.str_("name", required=True) or ""
    for key in _IGNORED:
        metadata.get(key)
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    go = spec.bool_("goTemplate")
    _go_options(spec, go)
    generators = tuple(_generator(g, 0) for g in spec.items("generators"))
    if not generators:
        raise spec.fail("generators", "must list at least one generator")
    template = spec.get("template")
    if not isinstance(template, Mapping):
        raise spec.fail("template", "is required and must be a mapping (an Application)")
    preserve = False
    if (policy := spec.child("syncPolicy")) is not None:
        preserve = policy.bool_("preserveResourcesOnDeletion")
        _finish(policy)
    for reader in (metadata, spec, root):
        _finish(reader)
    return AppSetSpec(name, origin, generators, template, go, preserve)


def reparse(raw: object, original: Generator) -> Generator:
    """A matrix's second child again, after its templates were rendered."""
    return _generator(_Reader(raw, original.where, "a matrix's second generator"), MAX_NESTING)


def _go_options(spec: _Reader, go: bool) -> None:
    options = spec.strings("goTemplateOptions")
    for option in options:
        if option != "missingkey=error":
            raise spec.fail(
                "goTemplateOptions",
                f"option {option!r} is not supported: gitward always treats a missing key "
                "as an error (missingkey=error)",
            )
    if options and not go:
        raise spec.fail("goTemplateOptions", "needs goTemplate: true")


def _generator(r: _Reader, depth: int) -> Generator:
    kinds = [k for k in r.data if k not in ("template", "selector")]
    if len(kinds) != 1:
        raise ConfigError(
            f"{r.origin}: {r.path} must hold exactly one generator, not "
            f"{', '.join(kinds) or 'none'}",
            hint=f"generator kinds: {', '.join(KINDS)}",
        )
    kind = kinds[0]
    if kind in _NOT_YET:
        raise r.fail(kind, f"is not supported by gitward yet ({_NOT_YET[kind]})")
    if kind not in KINDS:
        raise r.fail(kind, f"is not a generator kind; use one of {', '.join(KINDS)}")
    body = r.child(kind) or _Reader({}, f"{r.path}.{kind}", r.origin)
    template = r.get("template")
    if template is not None and not isinstance(template, Mapping):
        raise r.fail("template", "must be a mapping")
    selector = _selector(r.child("selector")) if r.get("selector") is not None else None
    parsed = _kind(kind, body, depth)
    _finish(body)
    _finish(r)
    return Generator(r.path, kind, parsed, template, selector)


def _kind(
    kind: str, body: _Reader, depth: int
) -> ListGenerator | ClustersGenerator | GitGenerator | MatrixGenerator | MergeGenerator:
    if kind == "list":
        elements = body.items("elements")
        for element in elements:
            element.used.update(element.data)
        return ListGenerator(tuple(dict(e.data) for e in elements))
    if kind == "clusters":
        selector = body.child("selector")
        return ClustersGenerator(_selector(selector) if selector else Selector(), _values(body))
    if kind == "git":
        return _git(body)
    if depth >= MAX_NESTING + 1:
        raise ConfigError(
            f"{body.origin}: {body.path} nests {kind} too deeply",
            hint="a matrix or merge may hold one level of matrix or merge children, as in Argo CD",
        )
    children = [_generator(c, depth + 1) for c in body.items("generators")]
    if kind == "matrix":
        if len(children) != 2:
            raise body.fail("generators", f"must hold exactly two generators, not {len(children)}")
        raw = body.data["generators"][1]
        return MatrixGenerator(children[0], children[1], raw)
    keys = body.strings("mergeKeys")
    if not keys:
        raise body.fail("mergeKeys", "is required: the keys that pair parameter sets")
    if len(children) < 2:
        raise body.fail("generators", "must hold at least two generators")
    return MergeGenerator(tuple(children), keys)


def _git(body: _Reader) -> GitGenerator:
    directories = []
    for d in body.items("directories"):
        directories.append(GitDirectory(d.str_("path", required=True) or "", d.bool_("exclude")))
        _finish(d)
    files = []
    for f in body.items("files"):
        files.append(f.str_("path", required=True) or "")
        _finish(f)
    if bool(directories) == bool(files):
        raise ConfigError(f"{body.origin}: {body.path} needs either directories or files")
    body.get("requeueAfterSeconds")  # gitward re-reads at every config reload and push
    return GitGenerator(
        repo_url=body.str_("repoURL", required=True) or "",
        revision=body.str_("revision", "HEAD") or "HEAD",
        directories=tuple(directories),
        files=tuple(files),
        values=_values(body),
    )


def _values(body: _Reader) -> tuple[tuple[str, str], ...]:
    values = body.get("values") or {}
    if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
        raise body.fail("values", "must be a mapping of strings")
    return tuple((str(k), v) for k, v in values.items())


def _selector(r: _Reader | None) -> Selector:
    if r is None:
        return Selector()
    labels = r.get("matchLabels") or {}
    if not isinstance(labels, Mapping):
        raise r.fail("matchLabels", "must be a mapping")
    expressions = []
    for e in r.items("matchExpressions"):
        op = e.str_("operator", required=True) or ""
        if op not in set(Operator):
            raise e.fail("operator", f"{op!r} must be one of {', '.join(Operator)}")
        values = e.strings("values")
        if op in (Operator.IN, Operator.NOT_IN) and not values:
            raise e.fail("values", f"must not be empty for {op}")
        expressions.append(Requirement(e.str_("key", required=True) or "", Operator(op), values))
        _finish(e)
    _finish(r)
    return Selector(tuple((str(k), str(v)) for k, v in labels.items()), tuple(expressions))


def _finish(r: _Reader) -> None:
    for key in r.data:
        if key not in r.used and key in _NOT_YET:
            raise r.fail(key, f"is not supported by gitward yet ({_NOT_YET[key]})")
    r.finish()
