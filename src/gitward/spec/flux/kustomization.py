"""A Flux ``Kustomization`` (``kustomize.toolkit.fluxcd.io``) as a gitward app.

The meaning is kept: the app takes its files from the source named by ``sourceRef``
(a GitRepository; its ``path``), is reconciled automatically with drift corrected
(Flux re-applies at every interval), prunes when ``prune`` is true, waits for the
Kustomizations in ``dependsOn``, renders into ``targetNamespace`` and runs the post-build
substitution (``postBuild.substitute``, ``substituteFrom``). ``decryption`` is gitward's
own SOPS support; ``force`` allows delete-and-recreate of objects whose immutable fields
change (gitward's ``Replace``); ``suspend`` suspends the app. ``interval``,
``retryInterval`` and ``timeout`` are checked but gitward's controller settings decide
how often and how long it works. Whatever else Flux defines is refused by name
(:mod:`.reader`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from gitward.model import (
    AppSpec,
    Decryption,
    Destination,
    KustomizeOptions,
    SyncPolicy,
)
from gitward.spec.flux.reader import FluxReader, duration
from gitward.spec.flux.sources import FluxSource
from gitward.spec.postbuild import read_post_build

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
_SOURCE_KINDS = ("GitRepository", "OCIRepository")


def parse_kustomization(
    root: FluxReader, namespace: str, name: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> AppSpec:
    """The app a Kustomization declares; ``sources`` by (kind, namespace, name)."""
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    source = _source(spec, namespace, sources)
    for key in ("interval", "retryInterval", "timeout"):
        duration(spec, key, required=key == "interval")
    wait = spec.bool_("wait")
    if spec.get("healthChecks") and not wait:
        raise spec.fail(
            "healthChecks",
            "is not supported by gitward; it waits for the health of every object it "
            "applies: remove healthChecks or set wait: true (Flux then ignores them too)",
        )
    target = spec.str_("targetNamespace")
    options = (("Replace", "true"),) if spec.bool_("force") else ()
    path = _path(spec.str_("path") or "./")
    app = AppSpec(
        name=name,
        source=dataclasses.replace(
            source.spec, path=path, kustomize=_kustomize(spec, source.ignore)
        ),
        destination=Destination(namespace=target),
        sync_policy=SyncPolicy(
            automated=True, self_heal=True, prune=spec.bool_("prune"), options=options
        ),
        depends_on=depends_on(spec, namespace),
        suspend=spec.bool_("suspend"),
        decryption=_decryption(spec.child("decryption"), namespace, target),
        post_build=read_post_build(spec.child("postBuild"), namespace, target),
    )
    spec.finish()
    return app


def _source(
    spec: FluxReader, namespace: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> FluxSource:
    ref = spec.child("sourceRef")
    if ref is None:
        raise spec.fail("sourceRef", "is required")
    kind = ref.str_("kind", required=True) or ""
    name = ref.str_("name", required=True) or ""
    where = ref.str_("namespace") or namespace
    ref.str_("apiVersion")
    ref.finish()
    if kind not in _SOURCE_KINDS:
        raise ref.fail(
            "kind",
            f"{kind!r} is not supported as a Kustomization source (GitRepository, OCIRepository)",
        )
    found = sources.get((kind, where, name))
    if found is None:
        known = ", ".join(sorted(s.ref for s in sources.values())) or "none"
        raise ref.fail(
            "name",
            f"names {kind} {where}/{name}, which is not declared (known: {known})",
        )
    return found


def _path(path: str) -> str:
    cleaned = path.strip().removeprefix("./").strip("/")
    return cleaned or "."


def depends_on(spec: FluxReader, namespace: str) -> tuple[str, ...]:
    names = []
    for entry in spec.items("dependsOn"):
        names.append(entry.str_("name", required=True) or "")
        if (entry.str_("namespace") or namespace) != namespace:
            raise entry.fail(
                "namespace",
                "names another namespace; gitward apps have one flat namespace of names, "
                "so dependsOn names the app (the Kustomization's name) only",
            )
        entry.finish()
    return tuple(names)


def _decryption(r: FluxReader | None, namespace: str, target: str | None) -> Decryption | None:
    """The SOPS keys' Secret, read from the Kustomization's namespace, as Flux does
    (gitward's default is the destination namespace: named only when they differ)."""
    if r is None:
        return None
    provider = r.str_("provider", required=True)
    if provider != "sops":
        raise r.fail("provider", f"{provider!r} is not supported; use sops")
    ref = r.child("secretRef")
    secret = ref.str_("name", required=True) if ref is not None else None
    if ref is not None:
        ref.finish()
    r.finish()
    elsewhere = namespace if secret and namespace != target else None
    return Decryption(provider="sops", secret_name=secret, namespace=elsewhere)


def _kustomize(spec: FluxReader, ignore: str | None) -> KustomizeOptions:
    """Flux's ``images``, ``patches``, ``namePrefix`` and ``nameSuffix`` as the overlay
    gitward writes on top of the path's kustomization (:mod:`gitward.render.kustomize_edits`);
    a path without a kustomization is built as kustomize-controller builds it
    (``generate``: :mod:`gitward.render.generated`), leaving out what the source's
    ``ignore`` patterns leave out."""
    return KustomizeOptions(
        images=tuple(_image(entry) for entry in spec.items("images")),
        name_prefix=spec.str_("namePrefix"),
        name_suffix=spec.str_("nameSuffix"),
        patches=tuple(_patch(entry) for entry in spec.items("patches")),
        generate=True,
        ignore=ignore,
    )


def _image(r: FluxReader) -> str:
    """``{name, newName, newTag, digest}`` in ``kustomize edit set image`` syntax."""
    name = r.str_("name", required=True) or ""
    new_name, tag, digest = r.str_("newName"), r.str_("newTag"), r.str_("digest")
    r.finish()
    image = f"{name}={new_name}" if new_name else name
    if digest:
        return f"{image}@{digest}"
    if tag:
        return f"{image}:{tag}"
    if not new_name:
        raise r.fail("name", "needs newName, newTag or digest")
    return image


def _patch(r: FluxReader) -> str:
    patch = r.str_("patch", required=True)
    target = r.child("target")
    selector: dict[str, str] = {}
    if target is not None:
        for key in ("group", "version", "kind", "name", "namespace"):
            if (value := target.str_(key)) is not None:
                selector[key] = value
        for key in ("labelSelector", "annotationSelector"):
            if (value := target.str_(key)) is not None:
                selector[key] = value
        target.finish()
    r.finish()
    entry: dict[str, object] = {"patch": patch}
    if target is not None:
        entry["target"] = selector
    return json.dumps(entry, sort_keys=True)
