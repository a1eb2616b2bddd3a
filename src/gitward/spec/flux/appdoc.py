"""An :class:`~gitward.model.AppSpec` written back as a gitward ``Application`` document.

``gitward import flux`` translates Flux objects into apps with :mod:`gitward.spec.flux`
and writes each as an Application (``gitward.dev/v1alpha1``), the declaration gitward
users edit. Only what the Flux translation produces is written; :func:`application`
refuses an app with anything else rather than drop it, and the importer checks that
the document reads back as the same app (:func:`gitward.spec.application.parse_application`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from gitward.model import (
    AppSpec,
    HelmOptions,
    KustomizeOptions,
    PostBuild,
    RetryPolicy,
    SourceSpec,
    SyncPolicy,
)

API_VERSION = "gitward.dev/v1alpha1"
_WRITTEN = {
    "name",
    "source",
    "destination",
    "sync_policy",
    "depends_on",
    "suspend",
    "project",
    "decryption",
    "post_build",
}


def application(app: AppSpec) -> dict[str, Any]:
    """The Application document declaring ``app``."""
    extra = [
        f.name
        for f in dataclasses.fields(app)
        if f.name not in _WRITTEN and getattr(app, f.name) != f.default
    ]
    if extra:
        raise ValueError(f"{', '.join(extra)} cannot be written as an Application yet")
    spec: dict[str, Any] = {"source": _source(app.source, app.destination.namespace)}
    if app.project != "default":
        spec["project"] = app.project
    destination = {
        k: v
        for k, v in dataclasses.asdict(app.destination).items()
        if v is not None and k in ("name", "server", "namespace")
    }
    spec["destination"] = destination
    spec["syncPolicy"] = _sync_policy(app.sync_policy)
    if app.depends_on:
        spec["dependsOn"] = list(app.depends_on)
    if app.suspend:
        spec["suspend"] = True
    if app.decryption is not None:
        if app.decryption.namespace:
            raise ValueError(
                "a decryption Secret outside the destination namespace cannot be written "
                "as an Application yet"
            )
        decryption: dict[str, Any] = {"provider": app.decryption.provider}
        if app.decryption.secret_name:
            decryption["secretRef"] = {"name": app.decryption.secret_name}
        spec["decryption"] = decryption
    if app.post_build is not None:
        spec["postBuild"] = _post_build(app.post_build, app.destination.namespace)
    metadata = {"name": app.name}
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata, "spec": spec}


def _source(source: SourceSpec, destination_namespace: str | None) -> dict[str, Any]:
    if source.directory is not None:
        raise ValueError("directory options cannot be written as an Application yet")
    result: dict[str, Any] = {"repoURL": source.repo_url}
    if source.chart is not None:
        result["chart"] = source.chart
    else:
        result["path"] = source.path
    result["targetRevision"] = source.target_revision
    if source.helm is not None:
        result["helm"] = _helm(source.helm)
    if source.kustomize is not None:
        result["kustomize"] = _kustomize(source.kustomize)
    if source.layer_selector is not None:
        selector = source.layer_selector
        result["layerSelector"] = {
            "mediaType": selector.media_type,
            "operation": selector.operation.value,
        }
    if source.plain_http:
        result["plainHTTP"] = True
    if source.secret_ref:
        if source.secret_namespace not in (None, destination_namespace):
            raise ValueError(
                f"the credentials Secret {source.secret_namespace}/{source.secret_ref} is "
                "outside the destination namespace; an Application reads it from there "
                "(copy the Secret, or keep the Flux documents)"
            )
        result["secretRef"] = {"name": source.secret_ref}
    return result


def _kustomize(options: KustomizeOptions) -> dict[str, Any]:
    written = KustomizeOptions(
        images=options.images,
        name_prefix=options.name_prefix,
        name_suffix=options.name_suffix,
        patches=options.patches,
        generate=options.generate,
        ignore=options.ignore,
    )
    if written != options:
        raise ValueError("these kustomize options cannot be written as an Application yet")
    result: dict[str, Any] = {}
    if options.generate:
        result["generate"] = True
    if options.ignore is not None:
        result["ignore"] = options.ignore
    if options.images:
        result["images"] = list(options.images)
    if options.name_prefix:
        result["namePrefix"] = options.name_prefix
    if options.name_suffix:
        result["nameSuffix"] = options.name_suffix
    if options.patches:
        result["patches"] = [json.loads(patch) for patch in options.patches]
    return result


def _helm(helm: HelmOptions) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if helm.release_name:
        result["releaseName"] = helm.release_name
    if helm.values:
        result["valuesObject"] = json.loads(helm.values)  # the translation writes JSON
    if helm.value_files:
        result["valueFiles"] = list(helm.value_files)
    if helm.skip_crds:
        result["skipCrds"] = True
    return result


def _sync_policy(policy: SyncPolicy) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if policy.automated:
        result["automated"] = {"prune": policy.prune, "selfHeal": policy.self_heal}
    if policy.options:
        result["syncOptions"] = [f"{k}={v}" for k, v in policy.options]
    if policy.retry is not None:
        if policy.retry != RetryPolicy(limit=policy.retry.limit):
            raise ValueError("a retry backoff cannot be written as an Application yet")
        result["retry"] = {"limit": policy.retry.limit}
    if policy.allow_empty:
        raise ValueError("allowEmpty cannot be written as an Application yet")
    return result


def _post_build(post: PostBuild, destination_namespace: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if post.namespace != (destination_namespace or "default"):
        result["namespace"] = post.namespace
    if post.target_namespace:
        result["targetNamespace"] = post.target_namespace
    if post.substitute:
        result["substitute"] = dict(post.substitute)
    if post.substitute_from:
        result["substituteFrom"] = [
            {"kind": s.kind, "name": s.name, **({"optional": True} if s.optional else {})}
            for s in post.substitute_from
        ]
    return result
