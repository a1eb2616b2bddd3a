"""Parse an ``Application`` document into an :class:`~gitward.model.AppSpec`.

Accepted: ``gitward.dev/v1alpha1`` and Argo CD's ``argoproj.io/v1alpha1``, with Argo
CD's field names, so an Argo CD Application works unchanged. gitward's own extras
(``dependsOn``, ``healthChecks``, ``suspend``, Flux's ``decryption``, and for registry
sources ``source.plainHTTP``, ``source.secretRef``, ``source.layerSelector``) sit
beside them. A field gitward does not know is an error naming it; a known Argo CD field that
gitward does not implement yet is an error saying so — never silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from gitward.errors import ConfigError
from gitward.model import (
    AppSpec,
    Decryption,
    Destination,
    HealthRule,
    IgnoreDifferences,
    LayerOperation,
    LayerSelector,
    PostBuild,
    RetryPolicy,
    SourceKind,
    SourceSpec,
    SyncPolicy,
)
from gitward.spec.postbuild import read_post_build
from gitward.spec.sources import (
    parse_directory,
    parse_helm,
    parse_kustomize,
    parse_sources,
    source_ref,
)
from gitward.spec.targets import check_targets, parse_rollout, parse_targets
from gitward.spec.trust import parse_verify

API_VERSIONS = ("gitward.dev/v1alpha1", "argoproj.io/v1alpha1")
# DNS labels, dotted ("example.guestbook" in Argo CD's apps example); at most 63
# characters, so that the name fits a label value.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
# Argo CD fields that exist but that gitward does not implement yet.
_NOT_YET = {
    "spec.source.plugin": "config management plugins",
    "spec.ignoreDifferences[].jqPathExpressions": "jq path expressions (use jsonPointers)",
    "spec.syncPolicy.managedNamespaceMetadata": "managed namespace metadata",
}
_IGNORED = {
    "spec.revisionHistoryLimit",
    "spec.info",
    "metadata.finalizers",
    "status",
    "operation",
    "metadata.labels",
    "metadata.annotations",
    "metadata.namespace",
}


class _Reader:
    """Reads one mapping, remembering which keys were used, to report the others."""

    def __init__(self, data: object, path: str, origin: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{origin}: {path} must be a mapping, not {type(data).__name__}")
        self.data: Mapping[str, Any] = data
        self.path = path
        self.origin = origin
        self.used: set[str] = set()

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {self._at(key)} {message}")

    def get(self, key: str) -> Any:
        self.used.add(key)
        return self.data.get(key)

    def str_(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.get(key)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.fail(key, f"must be a string, not {type(value).__name__}")
        return str(value)

    def bool_(self, key: str, default: bool = False) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def child(self, key: str) -> _Reader | None:
        value = self.get(key)
        return None if value is None else _Reader(value, self._at(key), self.origin)

    def items(self, key: str) -> list[_Reader]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        return [_Reader(v, f"{self._at(key)}[{i}]", self.origin) for i, v in enumerate(value)]

    def finish(self) -> None:
        """Raise for the first key nobody read."""
        for key in self.data:
            if key in self.used:
                continue
            generic = re.sub(r"\[\d+\]", "[]", self._at(key))
            if generic in _IGNORED:
                continue
            if generic in _NOT_YET:
                raise self.fail(key, f"is not supported by gitward yet ({_NOT_YET[generic]})")
            raise self.fail(key, "is not a known field; check its spelling and indentation")


def parse_application(doc: object, origin: str = "<application>") -> AppSpec:
    """An AppSpec from one parsed YAML document; ConfigError names any bad field."""
    root = _Reader(doc, "", origin)
    api_version = root.str_("apiVersion", required=True)
    kind = root.str_("kind", required=True)
    if api_version not in API_VERSIONS or kind != "Application":
        raise ConfigError(
            f"{origin}: expected kind Application in {' or '.join(API_VERSIONS)}, "
            f"got {kind} in {api_version}"
        )
    metadata = root.child("metadata") or _Reader({}, "metadata", origin)
    name = metadata.str_("name", required=True) or ""
    if not _NAME.match(name) or len(name) > 63:
        raise metadata.fail(
            "name",
            f"{name!r} must be a DNS label (lowercase letters, digits, -; dots between "
            "labels), at most 63 characters",
        )
    spec = root.child("spec")
    if spec is None:
        raise root.fail("spec", "is required")
    app = dataclasses.replace(_app(name, spec), labels=_labels(metadata))
    check_targets(origin, name, app.destination.name, app.targets)
    for reader in (metadata, spec, root):
        reader.finish()
    return app


def _labels(metadata: _Reader) -> tuple[tuple[str, str], ...]:
    """``metadata.labels`` as sorted pairs (the web UI filters apps by them)."""
    labels = metadata.data.get("labels") or {}
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise metadata.fail("labels", "must map label names to strings (quote numbers)")
    return tuple(sorted(labels.items()))


def _app(name: str, spec: _Reader) -> AppSpec:
    source, sources = parse_sources(spec, _source)
    return AppSpec(
        name=name,
        project=spec.str_("project", "default") or "default",
        source=source,
        sources=sources,
        destination=_destination(spec.child("destination")),
        sync_policy=_sync_policy(spec.child("syncPolicy")),
        ignore_differences=tuple(_ignore(r) for r in spec.items("ignoreDifferences")),
        health_rules=tuple(_health(r) for r in spec.items("healthChecks")),
        depends_on=spec.strings("dependsOn"),
        suspend=spec.bool_("suspend"),
        decryption=_decryption(spec.child("decryption")),
        post_build=_post_build(spec),
        targets=parse_targets(spec.items("targets")),  # fleet: spec/targets.py
        rollout=parse_rollout(spec.child("rollout")),
    )


def _post_build(spec: _Reader) -> PostBuild | None:
    """Flux's ``postBuild`` as a gitward extra (:mod:`gitward.spec.postbuild`)."""
    destination = spec.data.get("destination") or {}
    namespace = destination.get("namespace") if isinstance(destination, Mapping) else None
    return read_post_build(spec.child("postBuild"), str(namespace or "default"), None, extras=True)


def _decryption(r: _Reader | None) -> Decryption | None:
    """Flux's ``spec.decryption``: ``provider: sops`` and an optional ``secretRef.name``."""
    if r is None:
        return None
    provider = r.str_("provider", required=True)
    if provider != "sops":
        raise r.fail("provider", f"{provider!r} is not supported; use sops")
    ref = r.child("secretRef")
    name = ref.str_("name", required=True) if ref is not None else None
    if ref is not None:
        ref.finish()
    r.finish()
    return Decryption(provider="sops", secret_name=name)


def _source(r: _Reader) -> SourceSpec:
    directory, helm, kustomize = r.child("directory"), r.child("helm"), r.child("kustomize")
    layers = r.child("layerSelector")
    chart, path, ref = r.str_("chart"), r.str_("path"), source_ref(r)
    verify = r.child("verify")
    result = SourceSpec(
        repo_url=r.str_("repoURL", required=True) or "",
        path=path or ".",
        # A chart's version defaults to the newest (Argo CD asks for one; "*" is clear).
        target_revision=r.str_("targetRevision", "*" if chart else "HEAD") or "HEAD",
        directory=parse_directory(directory) if directory else None,
        helm=parse_helm(helm) if helm else None,
        kustomize=parse_kustomize(kustomize) if kustomize else None,
        chart=chart,
        ref=ref,
        # A ref source without a path (or chart) only lends its files to the others.
        renders=ref is None or path is not None or chart is not None,
        layer_selector=_layer_selector(layers) if layers else None,
        plain_http=r.bool_("plainHTTP"),
        secret_ref=_secret_ref(r.child("secretRef")),
        verify=parse_verify(verify) if verify else None,
    )
    _check_source(r, result)
    r.finish()
    return result


def _check_source(r: _Reader, source: SourceSpec) -> None:
    """Refuse combinations that cannot mean anything, naming the field to fix."""
    if source.chart is not None and not source.chart.strip("/ "):
        raise r.fail("chart", "must name a chart")
    if source.chart is not None and (source.directory or source.kustomize):
        raise r.fail("chart", "is a Helm chart: directory and kustomize options do not apply")
    kind = source.kind()
    if source.layer_selector is not None and kind is not SourceKind.OCI_ARTIFACT:
        raise r.fail("layerSelector", "applies only to an oci:// repoURL without a chart")
    if source.verify is not None and kind is not SourceKind.GIT:
        raise r.fail("verify", "applies only to Git repositories (commit signatures)")


def _layer_selector(r: _Reader) -> LayerSelector:
    """Flux's ``layerSelector``: ``mediaType`` and ``operation`` (extract or copy)."""
    media_type = r.str_("mediaType", required=True) or ""
    operation = r.str_("operation", LayerOperation.EXTRACT.value) or ""
    if operation not in {o.value for o in LayerOperation}:
        raise r.fail("operation", f"{operation!r} must be extract or copy")
    r.finish()
    return LayerSelector(media_type=media_type, operation=LayerOperation(operation))


def _secret_ref(r: _Reader | None) -> str | None:
    if r is None:
        return None
    name = r.str_("name", required=True)
    r.finish()
    return name


def _destination(r: _Reader | None) -> Destination:
    if r is None:
        return Destination()
    result = Destination(
        name=r.str_("name"), server=r.str_("server"), namespace=r.str_("namespace")
    )
    r.finish()
    return result


def _sync_policy(r: _Reader | None) -> SyncPolicy:
    if r is None:
        return SyncPolicy()
    automated = r.child("automated")
    options = []
    for entry in r.strings("syncOptions"):
        key, sep, value = entry.partition("=")
        if not sep:
            raise r.fail("syncOptions", f"entry {entry!r} must look like Name=value")
        options.append((key.strip(), value.strip()))
    retry = r.child("retry")
    policy = SyncPolicy(
        automated=automated is not None and automated.bool_("enabled", True),
        prune=automated.bool_("prune") if automated else False,
        self_heal=automated.bool_("selfHeal") if automated else False,
        allow_empty=automated.bool_("allowEmpty") if automated else False,
        options=tuple(options),
        retry=_retry(retry) if retry else None,
    )
    for reader in (automated, r):
        if reader is not None:
            reader.finish()
    return policy


def _retry(r: _Reader) -> RetryPolicy:
    limit = r.get("limit")
    backoff = r.child("backoff") or _Reader({}, f"{r.path}.backoff", r.origin)
    factor = backoff.get("factor")
    policy = RetryPolicy(
        limit=int(limit) if isinstance(limit, int) else 5,
        backoff_seconds=_seconds(backoff, "duration", 5.0),
        factor=float(factor) if isinstance(factor, int | float) else 2.0,
        max_backoff_seconds=_seconds(backoff, "maxDuration", 180.0),
    )
    backoff.finish()
    r.finish()
    return policy


def _seconds(r: _Reader, key: str, default: float) -> float:
    text = r.str_(key)
    if text is None:
        return default
    total, matched = 0.0, ""
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text):
        total += float(amount) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
        matched += f"{amount}{unit}"
    if text.isdigit():
        return float(text)
    if matched != text:
        raise r.fail(key, f"{text!r} is not a duration like 5s, 3m or 1h30m")
    return total


def _ignore(r: _Reader) -> IgnoreDifferences:
    rule = IgnoreDifferences(
        kind=r.str_("kind", required=True) or "",
        group=r.str_("group", "") or "",
        name=r.str_("name"),
        namespace=r.str_("namespace"),
        json_pointers=r.strings("jsonPointers"),
        managed_fields_managers=r.strings("managedFieldsManagers"),
    )
    r.finish()
    return rule


def _health(r: _Reader) -> HealthRule:
    rule = HealthRule(
        kind=r.str_("kind", required=True) or "",
        group=r.str_("group", "") or "",
        healthy=r.str_("healthy"),
        degraded=r.str_("degraded"),
        progressing=r.str_("progressing"),
        message=r.str_("message"),
        suspended=r.str_("suspended"),
    )
    if not (rule.healthy or rule.degraded or rule.progressing or rule.suspended):
        raise r.fail(
            "healthy",
            "or degraded, progressing, suspended: at least one CEL expression is required",
        )
    r.finish()
    return rule
