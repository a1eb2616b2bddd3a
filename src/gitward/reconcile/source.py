"""Source and render: from an app's declared revision to its objects, no cluster needed.

The first two stages of :mod:`gitward.reconcile.pipeline`, on their own so that
``gitward render`` runs them without a cluster. Git and the renderers block: they run
in threads. Rendered output is cached by commit in the renderer. ``keys`` decrypt the
app's SOPS files (:mod:`gitward.reconcile.decryption` adds the app's own).
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
    """Source and render: the objects ``app`` declares at its revision (no cluster needed)."""
    source = app.source
    revision = await asyncio.to_thread(
        git.resolve, source.repo_url, source.target_revision, credentials
    )
    tree = await asyncio.to_thread(git.checkout, revision, credentials)
    request = RenderRequest(
        root=tree,
        sha=revision.sha,
        source=source,
        app_name=app.name,
        namespace=app.destination.namespace,
        kube_version=kube_version,
        api_versions=api_versions,
        keys=keys or DecryptionKeys(),
    )
    resources = await asyncio.to_thread(renderer.render, request)
    return Rendered(revision, resources)
