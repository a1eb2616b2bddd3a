"""The Applications list over the controller: the index kept current, per viewer.

Before: the controller's :class:`~gitward.ports.AppsView` and the change watcher
(:class:`gitward.ui.live.Changes`). After: :mod:`gitward.ui.pages` and the bulk actions
ask :meth:`AppTable.select` for a page of the apps a person may view.

The rows are built once for every app, then only for the apps the watcher reports as
changed (it follows the controller for the life of the process), so a list request
after a change costs the changed rows, not 10,000. Which apps a person may view is kept
per set of grants the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gitward.api.roles import visible
from gitward.model import AppSpec
from gitward.model.history import AppStatus
from gitward.ports import AppsView
from gitward.ui import listing
from gitward.ui.index import ListIndex
from gitward.ui.live import Changes, Subscriber

Grants = tuple[Any, ...] | None  # a principal's grants; None: no role policy


class _Only:
    """``apps`` narrowed to some names, so :func:`visible` checks only those."""

    def __init__(self, apps: AppsView, names: Iterable[str]) -> None:
        self._apps, self._names = apps, sorted(names)

    def names(self) -> list[str]:
        return self._names

    def declared(self, app: str) -> AppSpec:
        return self._apps.declared(app)


class AppTable:
    def __init__(
        self,
        apps: AppsView,
        changes: Changes,
        subjects: Callable[[str, str | None], str] = lambda repo, sha: "",
    ) -> None:
        self.apps = apps
        self.subjects = subjects
        self.changes = changes
        self.index = ListIndex()
        self._follower: Subscriber | None = None
        self._allowed: dict[Grants, tuple[set[str], dict[str, tuple[str, ...]]]] = {}

    def refresh(self) -> None:
        """Bring the index up to date with what the watcher saw change."""
        if self._follower is None:
            self._follower = self.changes.follow()
            self._apply(set(self.apps.names()), set())
            return
        names, membership = self._follower.take()
        removed: set[str] = set()
        if membership:
            current = set(self.apps.names())
            removed = self.index.rows.keys() - current
            names = (names | (current - self.index.rows.keys())) - removed
        self._apply(names, removed)

    def _apply(self, names: set[str], removed: set[str]) -> None:
        if not names and not removed:
            return
        rows = []
        for name in names:
            try:
                spec, status = self.apps.declared(name), self.apps.observed(name)
            except KeyError:  # removed between the scan and now
                removed.add(name)
                continue
            rows.append(self.row(spec, status))
        self.index.update(rows, removed)
        for grants, (before, _) in list(self._allowed.items()):
            now = _Only(self.apps, names - removed)
            allowed = (before - removed - names) | set(visible(grants, now))  # type: ignore[arg-type]
            self._allowed[grants] = (allowed, {})

    def row(self, spec: AppSpec, status: AppStatus) -> listing.Row:
        return listing.row(spec, status, self.subjects(spec.source.repo_url, status.live_sha))

    def allowed(self, grants: Grants) -> tuple[set[str], dict[str, tuple[str, ...]]] | None:
        """The names ``grants`` may view and their filter menus; None: every app."""
        if grants is None:
            return None
        if grants not in self._allowed:
            names = set(visible(grants, self.apps))
            self._allowed[grants] = (names, {})
        names, menus = self._allowed[grants]
        if not menus:
            menus = listing.facets(self.index.rows[n] for n in names if n in self.index.rows)
            self._allowed[grants] = (names, menus)
        return names, menus

    def select(self, grants: Grants, query: listing.Query) -> listing.Page:
        """The page of ``query`` among the apps ``grants`` may view."""
        self.refresh()
        allowed = self.allowed(grants)
        if allowed is None:
            return self.index.select(query)
        page = self.index.select(query, allowed[0])
        return listing.Page(page.rows, page.total, page.query, allowed[1])
