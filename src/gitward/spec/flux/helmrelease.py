"""A Flux ``HelmRelease`` (``helm.toolkit.fluxcd.io/v2``) as a gitward Helm app.

The chart comes from ``chart.spec`` (a chart and version in a HelmRepository, or a chart
folder in a GitRepository) or from ``chartRef`` (an OCIRepository holding a chart, or a
HelmChart): :mod:`.charts`. The release keeps its meaning: ``releaseName`` (default
``[targetNamespace-]name``, as Flux), the namespace ``targetNamespace`` or the
HelmRelease's own, ``values`` (with ``valuesFrom`` read from the cluster at each sync,
inline values winning), ``dependsOn``, ``suspend``. Helm's actions map as far as gitward
has them: it renders the chart and applies the objects with server-side apply, so an
upgrade that drops an object prunes it; ``install.createNamespace`` creates the
namespace; ``install.crds``/``upgrade.crds: Skip`` leave the chart's CRDs out;
``upgrade.force`` re-creates objects whose immutable fields change; the remediation
``retries`` become the retry limit of failed syncs; ``driftDetection.mode: enabled``
corrects drift (self-heal), as Flux then does. gitward keeps no Helm release Secrets,
so ``maxHistory`` and ``persistentClient`` change nothing. The rest is refused by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from gitward.model import (
    AppSpec,
    Destination,
    HelmOptions,
    RetryPolicy,
    SourceSpec,
    SyncPolicy,
    ValuesReference,
)
from gitward.spec.flux.charts import as_chart, chart_source, lookup
from gitward.spec.flux.kustomization import depends_on
from gitward.spec.flux.reader import FluxReader, duration
from gitward.spec.flux.sources import FluxSource

HELM_GROUP = "helm.toolkit.fluxcd.io"
_UNLIMITED = 1_000_000  # Flux's retries: -1 (retry for ever)


def parse_helm_release(
    root: FluxReader, namespace: str, name: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> AppSpec:
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    for key in ("interval", "timeout"):
        duration(spec, key, required=key == "interval")
    spec.get("maxHistory")
    spec.get("persistentClient")
    target = spec.str_("targetNamespace")
    release = spec.str_("releaseName") or (f"{target}-{name}" if target else name)
    install, upgrade = spec.child("install"), spec.child("upgrade")
    options, retries, skip_crds = _actions(install, upgrade)
    helm = HelmOptions(release_name=release, values=_values(spec), skip_crds=skip_crds)
    source = _chart(spec, namespace, sources)
    _test(spec.child("test"))
    app = AppSpec(
        name=name,
        source=SourceSpec(**{**source.__dict__, "helm": _merge(source.helm, helm)}),
        destination=Destination(namespace=target or namespace),
        sync_policy=SyncPolicy(
            automated=True,
            prune=True,
            self_heal=_drift(spec.child("driftDetection")),
            options=options,
            retry=RetryPolicy(limit=retries) if retries is not None else None,
        ),
        depends_on=depends_on(spec, namespace),
        suspend=spec.bool_("suspend"),
        values_from=_values_from(spec, namespace),
    )
    spec.finish()
    return app


def _chart(
    spec: FluxReader, namespace: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> SourceSpec:
    chart, ref = spec.child("chart"), spec.child("chartRef")
    if (chart is None) == (ref is None):
        raise spec.fail("chart", "or chartRef: give exactly one")
    if chart is not None:
        template = chart.child("spec")
        if template is None:
            raise chart.fail("spec", "is required")
        duration(template, "interval")
        template.str_("reconcileStrategy")
        source = chart_source(template, namespace, sources)
        template.finish()
        chart.finish()
        return source
    return _chart_ref(ref, namespace, sources) if ref is not None else SourceSpec("")


def _chart_ref(
    ref: FluxReader, namespace: str, sources: Mapping[tuple[str, str, str], FluxSource]
) -> SourceSpec:
    kind = ref.str_("kind", required=True) or ""
    if kind not in ("OCIRepository", "HelmChart"):
        raise ref.fail("kind", f"{kind!r} must be OCIRepository or HelmChart")
    where = ref.str_("namespace") or namespace
    found = lookup(ref, kind, where, ref.str_("name", required=True) or "", sources)
    ref.str_("apiVersion")
    ref.finish()
    return as_chart(found)


def _values(spec: FluxReader) -> str | None:
    values = spec.get("values")
    if values is None:
        return None
    if not isinstance(values, Mapping):
        raise spec.fail("values", "must be a mapping")
    return json.dumps(values, sort_keys=True)  # JSON is YAML: Helm reads it as values


def _values_from(spec: FluxReader, namespace: str) -> tuple[ValuesReference, ...]:
    refs = []
    for entry in spec.items("valuesFrom"):
        kind = entry.str_("kind", required=True) or ""
        if kind not in ("ConfigMap", "Secret"):
            raise entry.fail("kind", f"{kind!r} must be ConfigMap or Secret")
        refs.append(
            ValuesReference(
                kind,
                entry.str_("name", required=True) or "",
                namespace,
                entry.str_("valuesKey") or "values.yaml",
                entry.str_("targetPath"),
                entry.bool_("optional"),
            )
        )
        entry.finish()
    return tuple(refs)


def _merge(chart: HelmOptions | None, release: HelmOptions) -> HelmOptions:
    """The chart's values files with the release's options."""
    files = chart.value_files if chart is not None else ()
    return HelmOptions(release.release_name, release.values, files, release.skip_crds)


def _actions(
    install: FluxReader | None, upgrade: FluxReader | None
) -> tuple[tuple[tuple[str, str], ...], int | None, bool]:
    """Sync options, the retry limit and whether CRDs are skipped, from Helm's actions."""
    options: list[tuple[str, str]] = []
    retries: list[int] = []
    skip = False
    for action in (install, upgrade):
        if action is None:
            continue
        duration(action, "timeout")
        skip = skip or (action.str_("crds") == "Skip") or action.bool_("skipCRDs")
        remediation = action.child("remediation")
        if remediation is not None:
            count = remediation.get("retries")
            if count is not None:
                if not isinstance(count, int) or isinstance(count, bool):
                    raise remediation.fail("retries", "must be a number")
                retries.append(_UNLIMITED if count < 0 else count)
            remediation.finish()
    if install is not None and install.bool_("createNamespace"):
        options.append(("CreateNamespace", "true"))
    if upgrade is not None and upgrade.bool_("force"):
        options.append(("Replace", "true"))
    for action in (install, upgrade):
        if action is not None:
            action.finish()
    return tuple(options), max(retries) if retries else None, skip


def _drift(r: FluxReader | None) -> bool:
    if r is None:
        return False
    mode = r.str_("mode") or "disabled"
    if mode not in ("enabled", "warn", "disabled"):
        raise r.fail("mode", f"{mode!r} must be enabled, warn or disabled")
    r.finish()
    return mode == "enabled"


def _test(r: FluxReader | None) -> None:
    if r is not None and r.bool_("enable"):
        raise r.fail("enable", "is not supported by gitward (Helm tests are not run)")
    if r is not None:
        r.finish()
