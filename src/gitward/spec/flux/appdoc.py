"""An :class:`~gitward.model.AppSpec` written back as a gitward ``Application`` document.

``gitward import flux`` translates Flux objects into apps with :mod:`gitward.spec.flux`
and writes each as an Application (``gitward.dev/v1alpha1``), the declaration gitward
users edit. Only what the Flux translation produces is written; :func:`application`
refuses an app with anything else rather than drop it, and the importer checks that
the document reads back as the same app (:func:`gitward.spec.application.parse_application`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from gitward.model import AppSpec, PostBuild, SourceSpec, SyncPolicy

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
        raise ValueError(f"{app.name}: cannot write {', '.join(extra)} as an Application yet")
    spec: dict[str, Any] = {"source": _source(app.source)}
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
        decryption: dict[str, Any] = {"provider": app.decryption.provider}
        if app.decryption.secret_name:
            decryption["secretRef"] = {"name": app.decryption.secret_name}
        spec["decryption"] = decryption
    if app.post_build is not None:
        spec["postBuild"] = _post_build(app.post_build, app.destination.namespace)
    metadata = {"name": app.name}
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": metadata, "spec": spec}


def _source(source: SourceSpec) -> dict[str, Any]:
    plain = SourceSpec(source.repo_url, source.path, source.target_revision)
    if source != plain:
        raise ValueError(f"{source.repo_url}: renderer options cannot be written yet")
    return {
        "repoURL": source.repo_url,
        "path": source.path,
        "targetRevision": source.target_revision,
    }


def _sync_policy(policy: SyncPolicy) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if policy.automated:
        result["automated"] = {"prune": policy.prune, "selfHeal": policy.self_heal}
    if policy.options:
        result["syncOptions"] = [f"{k}={v}" for k, v in policy.options]
    if policy.retry is not None or policy.allow_empty:
        raise ValueError("retry and allowEmpty cannot be written yet")
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
