"""Flux image automation inside ``gitward serve``: the periodic task and its wiring.

A round every declared interval (docs/image-automation.md): tags listed with the OCI
client (:func:`gitward.source.oci.list_tags`) and each ImageRepository's Secret
(:mod:`.credentials`), then :class:`~gitward.imageauto.scan.ImageUpdater`. After a
push, the apps deploying that repository are queued as after a webhook, instead of
waiting for their next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitward.imageauto.credentials import from_secrets
from gitward.imageauto.scan import ImageUpdater
from gitward.model import RepoCredentials
from gitward.model.history import Trigger
from gitward.ports import Cluster
from gitward.source.oci import list_tags, tag_digest

if TYPE_CHECKING:
    from gitward.spec.declarations import Declarations

IMAGE_ROUND_SECONDS = 300.0  # when no ImageRepository or automation declares an interval


class AppTrigger(Protocol):
    """What image automation needs of the controller: queue the apps of a repository."""

    def apps_for_push(
        self, repo_urls: frozenset[str], normalize: Callable[[str], str]
    ) -> list[str]: ...

    def trigger(self, app: str, trigger: Trigger, actor: str = "gitward") -> None: ...


class ImageHost(Protocol):
    """What image automation reads of ``gitward serve``: the declarations, the controller,
    and the cluster it runs in (where ImageRepositories' Secrets are read)."""

    @property
    def declarations(self) -> Declarations: ...

    @property
    def controller(self) -> AppTrigger: ...

    def home_cluster(self) -> Cluster: ...


def start_image_automation(
    cache_dir: Path, git_credentials: RepoCredentials | None, host: ImageHost
) -> asyncio.Task[None]:
    """The image automation task of ``gitward serve``; ``git_credentials`` push commits."""

    def announce(repo_url: str) -> None:
        apps = host.controller
        for app in apps.apps_for_push(frozenset({repo_url}), lambda url: url):
            apps.trigger(app, Trigger.WEBHOOK, "image-automation")

    updater = ImageUpdater(
        cache_dir,
        list_tags,
        git_credentials=lambda _url: git_credentials,
        registry_credentials=from_secrets(host.home_cluster),
        announce=announce,
        tag_digest=tag_digest,
    )
    rounds = updater.run_forever(lambda: host.declarations.images, IMAGE_ROUND_SECONDS)
    return asyncio.create_task(rounds, name="image-automation")
