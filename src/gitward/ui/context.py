"""What the web UI reads and acts through: the API's context plus the UI's own parts.

The UI holds no state of its own about apps: it reads the controller through the same
narrow :class:`~gitward.ports.AppsView` the API reads, acts through the same calls, and
writes the same audit log, so the browser can do nothing the API would refuse.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gitward.api.server import ApiContext
from gitward.model import AppSpec
from gitward.reconcile.pipeline import Engine
from gitward.ui.feed import Feed
from gitward.ui.live import Changes
from gitward.ui.oidc import Oidc
from gitward.ui.sessions import Sessions
from gitward.ui.views import SavedViews


@dataclass
class UiContext:
    api: ApiContext
    engine_for: Callable[[AppSpec], Engine]
    sessions: Sessions
    changes: Changes
    about: Callable[[], dict[str, Any]] = dict  # the Settings page: version, clusters, repos
    oidc: Oidc | None = None
    clock: Callable[[], float] = time.monotonic
    min_interval: float = 0.5  # seconds between two live messages to one tab
    keepalive: float = 15.0
    # (repository, commit) -> the commit's subject, for the list (gitward.ui.commits)
    subjects: Callable[[str, str | None], str] = lambda repo, sha: ""
    views: SavedViews = field(default_factory=SavedViews)  # the list's saved views, per user
    feed: Feed | None = None  # the Activity page's live entries (gitward.ui.feed)
