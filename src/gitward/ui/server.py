"""The web UI's own HTTP listener inside ``gitward serve`` (``--ui-listen``).

Before: the service has started its controller and API (:mod:`gitward.serve`). After:
browsers reach :func:`gitward.ui.app.create_ui` on a separate address, so the UI can be
exposed (or not) independently of the API and webhooks; it is off unless asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gitward.api.listener import Listener
from gitward.api.server import ApiContext
from gitward.model import AppSpec
from gitward.reconcile.pipeline import Engine
from gitward.spec.declarations import Declarations
from gitward.toolchain import default_cache_dir
from gitward.ui.app import create_ui
from gitward.ui.commits import CommitSubjects
from gitward.ui.context import UiContext
from gitward.ui.feed import Feed
from gitward.ui.live import Changes
from gitward.ui.oidc import Oidc, OidcSettings
from gitward.ui.sessions import DEFAULT_TTL, Sessions
from gitward.ui.views import SavedViews

log = logging.getLogger("gitward.ui")


class _ServeSettings(Protocol):
    @property
    def config(self) -> object: ...
    @property
    def poll_interval(self) -> float: ...
    @property
    def cache_dir(self) -> Path | None: ...
    @property
    def state_dir(self) -> Path: ...


class _Clock(Protocol):
    def monotonic(self) -> float: ...


class Service(Protocol):
    """What the UI reads of :class:`gitward.serve.Service` (which imports this module)."""

    @property
    def settings(self) -> _ServeSettings: ...
    @property
    def declarations(self) -> Declarations: ...
    @property
    def config_revision(self) -> str: ...
    @property
    def clock(self) -> _Clock: ...

    def engine_for(self, spec: AppSpec) -> Engine: ...


@dataclass(frozen=True)
class UiSettings:
    host: str = "127.0.0.1"
    port: int = 8081
    session_ttl: float = DEFAULT_TTL
    oidc: OidcSettings | None = None


class UiServer:
    def __init__(
        self,
        settings: UiSettings,
        api: ApiContext,
        engine_for: Callable[[AppSpec], Engine],
        about: Callable[[], dict[str, Any]],
        clock: Callable[[], float],
        *,
        git_cache: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        changes = Changes(api.apps)
        self.feed = Feed(api.apps, api.store, changes)  # the Activity page's live entries
        self.context = UiContext(
            api=api,
            engine_for=engine_for,
            sessions=Sessions(clock, settings.session_ttl),
            changes=changes,
            about=about,
            oidc=Oidc(settings.oidc, clock) if settings.oidc else None,
            clock=clock,
            subjects=CommitSubjects(git_cache),
            views=SavedViews(state_dir / "ui-views.json" if state_dir else None),
            feed=self.feed,
        )
        self.port = settings.port
        self._listener: Listener | None = None

    @classmethod
    async def start_for(cls, service: Service, settings: UiSettings, api: ApiContext) -> UiServer:
        """Start the UI of a running ``gitward serve`` (:class:`gitward.serve.Service`)."""

        def settings_page() -> dict[str, Any]:
            s = service.settings
            return about(service.declarations, service.config_revision, s.config, s.poll_interval)

        git_cache = (service.settings.cache_dir or default_cache_dir()) / "git"
        ui = cls(
            settings,
            api,
            service.engine_for,
            settings_page,
            service.clock.monotonic,
            git_cache=git_cache,
            state_dir=service.settings.state_dir,
        )
        await ui.start()
        return ui

    async def start(self) -> None:
        self.context.changes.start()
        self.feed.start()  # from now on, drift not corrected is remembered
        host, port = self.settings.host, self.settings.port
        self._listener = Listener(create_ui(self.context), host, port, name="ui-http", grace=2)
        self.port = await self._listener.start()
        log.info("web UI on http://%s:%d", host, self.port)

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()
        await self.context.changes.stop()
        await self.feed.stop()


def about(
    declarations: Declarations, revision: str, config: object, poll_interval: float
) -> dict[str, Any]:
    """The controller's configuration as the read-only Settings page shows it."""
    apps = declarations.apps.values()
    return {
        "config": str(config),
        "config_revision": revision,
        "clusters": sorted(declarations.clusters) or ["in-cluster"],
        "repositories": sorted({a.source.repo_url for a in apps}),
        "apps": len(declarations.apps),
        "poll_interval": poll_interval,
    }
