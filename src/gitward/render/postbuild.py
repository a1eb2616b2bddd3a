"""Flux's post-build step: target namespace and ``${var}`` substitution on rendered objects.

Before: the renderer (:mod:`gitward.render.renderer`) has turned the app's path into
objects. After: the policy and plan stages see the objects as they will be applied.
Flux does the same in this order: Kustomize sets ``targetNamespace``, then each object
is serialized to YAML, its variables are expanded (:mod:`gitward.render.envsubst`) and
it is parsed again, so ``replicas: ${REPLICAS}`` becomes a number. An object labelled or
annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` is left as written.

Pure: the variables are read from the cluster by the caller
(:mod:`gitward.reconcile.variables`). They may come from a Secret: errors name the
object and the expression, never a value (a YAML error gives only the line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml

from gitward.errors import RenderError
from gitward.model import PostBuild, Resource
from gitward.render.envsubst import SubstitutionError, substitute

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def post_build(
    resources: Sequence[Resource], spec: PostBuild, variables: Mapping[str, str]
) -> list[Resource]:
    """``resources`` moved to the target namespace and with their variables expanded.

    Substitution runs only when the app declares variables (inline or from objects),
    as in Flux: without ``postBuild`` a ``${...}`` in a manifest is applied as written.
    """
    result = list(resources)
    if spec.target_namespace:
        result = [_moved(r, spec.target_namespace) for r in result]
    if spec.substitute or spec.substitute_from:
        result = [r if _disabled(r) else _substituted(r, variables) for r in result]
    return result


def _moved(resource: Resource, namespace: str) -> Resource:
    """The object in ``namespace`` if it names a namespace (cluster-scoped ones do not;
    those naming none get the destination namespace later, in the prepare stage)."""
    meta = resource.metadata
    if not meta.get("namespace") or meta.get("namespace") == namespace:
        return resource
    return resource.with_body({**resource.body, "metadata": {**meta, "namespace": namespace}})


def _disabled(resource: Resource) -> bool:
    return "disabled" in (resource.labels.get(DISABLE_KEY), resource.annotations.get(DISABLE_KEY))


def _substituted(resource: Resource, variables: Mapping[str, str]) -> Resource:
    where = str(resource.source) if resource.source else str(resource.key)
    text = yaml.dump(resource.body, Dumper=_DUMPER, sort_keys=False)
    if "${" not in text and "$$" not in text:
        return resource
    try:
        expanded = substitute(text, variables)
    except SubstitutionError as e:
        raise RenderError(
            f"{resource.key}: post-build substitution failed: {e}",
            location=where,
            hint="fix the expression, or annotate the object with "
            f"{DISABLE_KEY}: disabled to apply it as written",
        ) from None
    try:
        body = yaml.load(expanded, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" (line {mark.line + 1} of the object)" if mark is not None else ""
        raise RenderError(
            f"{resource.key}: after post-build substitution the object is not valid YAML{line}",
            location=where,
            hint="a substituted value may need quotes in the manifest, e.g. '${VAR}'",
        ) from None
    if not isinstance(body, dict):
        raise RenderError(
            f"{resource.key}: after post-build substitution the object is not a mapping",
            location=where,
        )
    return resource.with_body(body)
