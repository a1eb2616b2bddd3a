"""Flux's registry sources: ``OCIRepository``, ``HelmRepository`` and ``HelmChart``.

Each becomes the gitward source fields the registry support reads
(:class:`~gitward.model.SourceSpec` ``chart``, ``layer_selector``, ``plain_http``,
``secret_ref``):

- ``OCIRepository``: an ``oci://`` artifact at ``ref.digest``, else ``ref.semver`` (a
  range over the tags), else ``ref.tag``, else ``latest`` (Flux's order and default);
  ``layerSelector`` as Flux has it; ``insecure`` is plain HTTP. When a HelmRelease's
  ``chartRef`` names it, the artifact is a chart: the last path segment of the URL is
  the chart (:func:`as_chart`).
- ``HelmRepository``: the URL of a chart repository (``https://`` index, or ``oci://``
  with ``type: oci``); a chart and a version are added by a HelmChart or a HelmRelease.
- ``HelmChart``: a chart (``chart``, ``version``, default ``*``) from a HelmRepository,
  or a chart folder in a GitRepository, with its ``valuesFiles``.

``secretRef`` and ``certSecretRef`` name one Secret for gitward (credentials and CA
together): two different names are refused. The Secret is read from the source
document's namespace, as Flux does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from gitward.model import HelmOptions, LayerOperation, LayerSelector, SourceSpec
from gitward.spec.flux.reader import FluxReader, duration
from gitward.spec.flux.sources import FluxSource

_UNSUPPORTED_PROVIDER = "cloud provider authentication (provider: generic only)"


def parse_oci_repository(root: FluxReader, namespace: str, name: str) -> FluxSource:
    spec = _spec(root)
    url = spec.str_("url", required=True) or ""
    if not url.startswith("oci://"):
        raise spec.fail("url", f"{url!r} must start with oci://")
    ref = spec.child("ref")
    revision = "latest"
    if ref is not None:
        digest, semver, tag = ref.str_("digest"), ref.str_("semver"), ref.str_("tag")
        if ref.get("semverFilter") is not None:
            raise ref.fail("semverFilter", "is not supported by gitward yet")
        ref.finish()
        revision = digest or semver or tag or "latest"
    layers = spec.child("layerSelector")
    source = SourceSpec(
        repo_url=url,
        target_revision=revision,
        layer_selector=_layers(layers) if layers else None,
        plain_http=spec.bool_("insecure"),
        secret_ref=(secret := _secret(spec)),
        secret_namespace=namespace if secret else None,
    )
    ignore = spec.str_("ignore")  # for the Kustomizations built from its artifact
    return _finish(root, spec, "OCIRepository", (namespace, name), source, ignore)


def parse_helm_repository(root: FluxReader, namespace: str, name: str) -> FluxSource:
    spec = _spec(root)
    url = spec.str_("url", required=True) or ""
    kind = spec.str_("type") or "default"
    if kind not in ("default", "oci"):
        raise spec.fail("type", f"{kind!r} must be default or oci")
    if (kind == "oci") != url.startswith("oci://"):
        raise spec.fail("url", f"{url!r} does not match type {kind} (oci:// goes with type oci)")
    if spec.bool_("passCredentials"):
        raise spec.fail(
            "passCredentials",
            "is not supported by gitward (credentials stay with the repository's host)",
        )
    secret = _secret(spec)
    source = SourceSpec(
        repo_url=url,
        plain_http=spec.bool_("insecure"),
        secret_ref=secret,
        secret_namespace=namespace if secret else None,
    )
    return _finish(root, spec, "HelmRepository", (namespace, name), source)


def parse_helm_chart(
    root: FluxReader,
    namespace: str,
    name: str,
    sources: Mapping[tuple[str, str, str], FluxSource],
) -> FluxSource:
    """A HelmChart; ``sources`` holds the repositories parsed before it."""
    spec = _spec(root)
    source = chart_source(spec, namespace, sources)
    spec.str_("reconcileStrategy")  # gitward re-renders at every change of either
    return _finish(root, spec, "HelmChart", (namespace, name), source)


def chart_source(
    spec: FluxReader, namespace: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> SourceSpec:
    """A chart template (HelmChart ``spec``, HelmRelease ``chart.spec``) as a source."""
    chart = spec.str_("chart", required=True) or ""
    version = spec.str_("version") or "*"
    values_files = spec.strings("valuesFiles")
    ref = spec.child("sourceRef")
    if ref is None:
        raise spec.fail("sourceRef", "is required")
    kind = ref.str_("kind", required=True) or ""
    ref_name = ref.str_("name", required=True) or ""
    where = ref.str_("namespace") or namespace
    ref.str_("apiVersion")
    ref.finish()
    if kind not in ("HelmRepository", "GitRepository"):
        raise ref.fail("kind", f"{kind!r} is not supported (HelmRepository or GitRepository)")
    found = lookup(ref, kind, where, ref_name, sources)
    helm = HelmOptions(value_files=values_files)
    if kind == "GitRepository":  # a chart folder at the repository's revision
        path = chart.strip().removeprefix("./").strip("/") or "."
        return dataclasses.replace(found.spec, path=path, helm=helm)
    return dataclasses.replace(found.spec, chart=chart, target_revision=version, helm=helm)


def as_chart(source: FluxSource) -> SourceSpec:
    """An OCIRepository's artifact read as a chart: ``oci://host/charts/podinfo`` is
    chart ``podinfo`` of the OCI chart repository ``oci://host/charts``."""
    spec = source.spec
    if source.kind != "OCIRepository":
        return spec
    repo, _, chart = spec.repo_url.rstrip("/").rpartition("/")
    return dataclasses.replace(spec, repo_url=repo, chart=chart, layer_selector=None)


def lookup(
    ref: FluxReader,
    kind: str,
    namespace: str,
    name: str,
    sources: Mapping[tuple[str, str, str], FluxSource],
) -> FluxSource:
    found = sources.get((kind, namespace, name))
    if found is None:
        known = ", ".join(sorted(s.ref for s in sources.values() if s.kind == kind)) or "none"
        raise ref.fail(
            "name", f"names {kind} {namespace}/{name}, which is not declared (known: {known})"
        )
    return found


def _spec(root: FluxReader) -> FluxReader:
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    duration(spec, "interval", required=root.kind != "HelmChart")
    duration(spec, "timeout")
    provider = spec.str_("provider")
    if provider not in (None, "generic"):
        raise spec.fail("provider", f"{provider!r}: {_UNSUPPORTED_PROVIDER}")
    return spec


def _secret(spec: FluxReader) -> str | None:
    names = []
    for key in ("secretRef", "certSecretRef"):
        ref = spec.child(key)
        if ref is not None:
            names.append(ref.str_("name", required=True) or "")
            ref.finish()
    if len(set(names)) > 1:
        raise spec.fail(
            "certSecretRef",
            "must name the same Secret as secretRef for gitward "
            "(one Secret holds username/password and ca.crt)",
        )
    return names[0] if names else None


def _layers(r: FluxReader) -> LayerSelector:
    media_type = r.str_("mediaType", required=True) or ""
    operation = r.str_("operation") or "extract"
    if operation not in {o.value for o in LayerOperation}:
        raise r.fail("operation", f"{operation!r} must be extract or copy")
    r.finish()
    return LayerSelector(media_type, LayerOperation(operation))


def _finish(  # noqa: PLR0917
    root: FluxReader,
    spec: FluxReader,
    kind: str,
    where: tuple[str, str],
    source: SourceSpec,
    ignore: str | None = None,
) -> FluxSource:
    spec.finish()
    namespace, name = where
    return FluxSource(kind, namespace, name, root.origin, source, ignore)
