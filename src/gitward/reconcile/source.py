"""Source and render: from an app's declared revision to its objects, no cluster needed.

The first two stages of :mod:`gitward.reconcile.pipeline`, on their own so that
``gitward render`` runs them without a cluster. Git and the renderers block: they run
in threads. Both are cached by commit SHA (checkouts in the Git cache, rendered output
in the renderer), so looking at an unchanged commit again costs no rendering. ``keys``
decrypt the app's SOPS files (:mod:`gitward.reconcile.decryption` adds the app's own).

A multi-source app (Argo CD's ``spec.sources``) is rendered source by source: the app's
revision is that of its first rendering source (``app.source``); the others are
resolved here, at each render, so a push to any of them is picked up. Sources with a
``ref`` lend their trees to the Helm sources' ``$ref/`` values files. The objects of all
sources are combined, and one object rendered by two sources is an error naming both.

A Flux Kustomization's post-build step (:mod:`gitward.render.postbuild`) runs on the
rendered objects, after the cache: its variables may change without a new commit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitward.errors import DuplicateObjectError
from gitward.model import (
    AppSpec,
    DecryptionKeys,
    RepoCredentials,
    Resource,
    ResourceKey,
    Revision,
    SourceSpec,
)
from gitward.ports import GitSource, Renderer, RenderRequest
from gitward.reconcile.variables import inline_variables
from gitward.render.postbuild import post_build

Credentials = Callable[[str], RepoCredentials | None]


@dataclass(frozen=True)
class Rendered:
    revision: Revision
    resources: list[Resource]


async def resolve_revision(
    git: GitSource, app: AppSpec, credentials: RepoCredentials | None
) -> Revision:
    """The commit (or, for a registry source, the digest) ``app``'s target revision names
    now (a branch or a semver range moves, a SHA or digest does not)."""
    return await asyncio.to_thread(git.resolve_source, app.source, credentials)


async def _checkout(
    git: GitSource, credentials: Credentials, app: AppSpec, revision: Revision
) -> list[tuple[Revision, Path]]:
    """The commit and tree of each source, in order; the first rendering source is at
    ``revision``, and so is any other source naming the same repository and revision."""
    found: list[tuple[Revision, Path]] = []
    for source in app.all_sources():
        secret = credentials(source.repo_url)
        current = revision
        if (source.repo_url, source.target_revision, source.chart) != (
            app.source.repo_url,
            app.source.target_revision,
            app.source.chart,
        ):
            current = await asyncio.to_thread(git.resolve_source, source, secret)
        tree = await asyncio.to_thread(git.checkout_source, source, current, secret)
        found.append((current, tree))
    return found


async def render_revision(
    git: GitSource,
    renderer: Renderer,
    app: AppSpec,
    revision: Revision,
    credentials: RepoCredentials | None,
    *,
    kube_version: str | None = None,
    api_versions: tuple[str, ...] = (),
    keys: DecryptionKeys | None = None,
    credentials_for: Credentials | None = None,
    variables: Mapping[str, str] | None = None,
) -> list[Resource]:
    """The objects ``app`` declares at ``revision`` (rendering is cached by commit).

    ``credentials`` are for the app's repository; ``credentials_for`` gives those of any
    repository a multi-source app names (default: ``credentials`` for all).
    ``variables``: for the post-build step (None: the app's inline ones only)."""
    sources = app.all_sources()
    checked = await _checkout(git, credentials_for or (lambda _url: credentials), app, revision)
    refs = tuple(
        (source.ref, tree, rev.sha)
        for source, (rev, tree) in zip(sources, checked, strict=True)
        if source.ref is not None
    )
    results: list[tuple[SourceSpec, list[Resource]]] = []
    for source, (rev, tree) in zip(sources, checked, strict=True):
        if not source.renders:
            continue
        request = RenderRequest(
            root=tree,
            sha=rev.sha,
            source=source,
            app_name=app.name,
            namespace=app.destination.namespace,
            kube_version=kube_version,
            api_versions=api_versions,
            keys=keys or DecryptionKeys(),
            refs=refs,
        )
        results.append((source, await asyncio.to_thread(renderer.render, request)))
    resources = combine(results)
    if app.post_build is None:
        return resources
    values = inline_variables(app) if variables is None else variables
    return post_build(resources, app.post_build, values)


def _describe(source: SourceSpec) -> str:
    return f"{source.repo_url} path {source.path} at {source.target_revision}"


def combine(results: list[tuple[SourceSpec, list[Resource]]]) -> list[Resource]:
    """The objects of every source, in source order; one identity in two sources is an
    error naming both (Argo CD keeps the last with a warning; gitward would rather not
    guess which one the user meant)."""
    if len(results) == 1:
        return results[0][1]
    seen: dict[ResourceKey, SourceSpec] = {}
    combined: list[Resource] = []
    for source, resources in results:
        for resource in resources:
            first = seen.setdefault(resource.key, source)
            if first is not source:
                raise DuplicateObjectError(
                    f"{resource.key} is rendered by two sources: {_describe(first)} "
                    f"and {_describe(source)}",
                    hint="keep the object in one source of spec.sources",
                )
        combined.extend(resources)
    return combined


async def render_app(
    git: GitSource,
    renderer: Renderer,
    app: AppSpec,
    credentials: RepoCredentials | None,
    *,
    kube_version: str | None = None,
    api_versions: tuple[str, ...] = (),
    keys: DecryptionKeys | None = None,
) -> Rendered:
    """Resolve and render without a cluster (``gitward render``)."""
    revision = await resolve_revision(git, app, credentials)
    resources = await render_revision(
        git,
        renderer,
        app,
        revision,
        credentials,
        kube_version=kube_version,
        api_versions=api_versions,
        keys=keys,
    )
    return Rendered(revision, resources)
