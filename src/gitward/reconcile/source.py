"""Source and render: from an app's declared revision to its objects, no cluster needed.

The first two stages of :mod:`gitward.reconcile.pipeline`, on their own so that
``gitward render`` runs them without a cluster. Git and the renderers block: they run
in threads. Both are cached by commit SHA (checkouts in the Git cache, rendered output
in the renderer), so looking at an unchanged commit again costs no rendering. ``keys``
decrypt the app's SOPS files (:mod:`gitward.reconcile.decryption` adds the app's own).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gitward.model import AppSpec, DecryptionKeys, RepoCredentials, Resource, Revision
from gitward.ports import GitSource, Renderer, RenderRequest


@dataclass(frozen=True)
class Rendered:
    revision: Revision
    resources: list[Resource]


async def resolve_revision(
    git: GitSource, app: AppSpec, credentials: RepoCredentials | None
) -> Revision:
    """The commit ``app``'s target revision names now (a branch moves, a SHA does not)."""
    source = app.source
    return await asyncio.to_thread(
        git.resolve, source.repo_url, source.target_revision, credentials
    )


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
) -> list[Resource]:
    """The objects ``app`` declares at ``revision`` (rendering is cached by commit)."""
    tree = await asyncio.to_thread(git.checkout, revision, credentials)
    request = RenderRequest(
        root=tree,
        sha=revision.sha,
        source=app.source,
        app_name=app.name,
        namespace=app.destination.namespace,
        kube_version=kube_version,
        api_versions=api_versions,
        keys=keys or DecryptionKeys(),
    )
    return await asyncio.to_thread(renderer.render, request)


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
