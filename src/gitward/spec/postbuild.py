"""Reading ``postBuild`` (Flux's post-build substitution) for Kustomizations and Applications.

Flux's ``Kustomization`` has it; gitward's ``Application`` accepts the same block as one
of its extras (like ``decryption``), so that ``gitward import flux`` can write an
Application with the same meaning. An Application's block may also say where
``substituteFrom`` objects are read (``namespace``, default: the destination namespace)
and Flux's ``targetNamespace`` (objects naming another namespace are moved).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitward.model import PostBuild, VariableSource

if TYPE_CHECKING:
    from gitward.spec.application import _Reader


def read_post_build(
    r: _Reader | None, namespace: str, target: str | None, *, extras: bool = False
) -> PostBuild | None:
    """The post-build step ``r`` declares; ``extras``: gitward's own keys are allowed."""
    if r is None:
        return PostBuild(namespace=namespace, target_namespace=target) if target else None
    if extras:
        namespace = r.str_("namespace") or namespace
        target = r.str_("targetNamespace") or target
    sources = []
    for entry in r.items("substituteFrom"):
        kind = entry.str_("kind", required=True) or ""
        if kind not in ("ConfigMap", "Secret"):
            raise entry.fail("kind", f"{kind!r} must be ConfigMap or Secret")
        name = entry.str_("name", required=True) or ""
        sources.append(VariableSource(kind, name, entry.bool_("optional")))
        entry.finish()
    substitute = _strings(r, "substitute")
    r.finish()
    return PostBuild(tuple(sorted(substitute.items())), tuple(sources), namespace, target)


def _strings(r: _Reader, key: str) -> dict[str, str]:
    """A mapping of strings; numbers and booleans written unquoted are refused, as Flux's
    API refuses them (the value would not be the text the user sees)."""
    value = r.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise r.fail(key, "must be a mapping of strings (quote numbers and booleans)")
    return dict(value)
