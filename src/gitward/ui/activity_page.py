"""The Activity page (``/activity``) and its live stream (``/activity/events``).

Before: the store holds syncs and the audit log; :class:`gitward.ui.feed.Feed` hears of
new entries and drift. After: the page lists the entries of the apps the person may view
that pass the URL's filters (:class:`gitward.ui.activity.ActivityQuery`), and an open
page re-renders its feed when a new entry would appear on it, at most once per
``min_interval`` (like the list's stream), never for an entry it would not show.

The stream's URL carries ``since=<the feed's mark when the page was rendered>`` and each
message an id, so a first connect after a change, a reconnect (``Last-Event-ID``) and a
stream htmx rebuilt (no id) all catch up: the server re-renders the tab if anything it
missed is for this tab, or if what it missed is not known any more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gitward.api.roles import scope
from gitward.model.history import AuditEntry, SyncTrigger
from gitward.ports import AppsView
from gitward.spec.roles import Grant
from gitward.ui.activity import ActivityQuery
from gitward.ui.app import Guard
from gitward.ui.feed import AuditLog, Entry, Feed
from gitward.ui.live import sse_event, sse_response
from gitward.ui.sessions import COOKIE, Session

READ = 500  # entries read from the store per kind before filtering
SHOWN = 200  # entries shown per kind


def viewer(grants: tuple[Grant, ...] | None, apps: AppsView) -> Callable[[str | None], bool]:
    """Whether the person may view an entry's app: the API's check, remembered per app.

    Entries about no app (logins, webhooks) are shown to everyone who may open the page;
    entries of an app removed from Git to no one (as the app's own pages).
    """
    known: dict[str, bool] = {}

    def may(app: str | None) -> bool:
        if app is None:
            return True
        if app not in known:
            try:
                where = scope(apps.declared(app))
            except KeyError:
                known[app] = False
            else:
                known[app] = grants is None or any(g.allows("get", **where) for g in grants)
        return known[app]

    return may


def relevant(q: ActivityQuery, may: Callable[[str | None], bool], entries: Iterable[Entry]) -> bool:
    """Whether any of ``entries`` belongs on this person's feed with these filters."""
    return any(q.matches(e) and may(e.app) for e in entries)


class ActivityPage:
    def __init__(self, guard: Guard) -> None:
        self.guard, self.ctx = guard, guard.ctx
        ctx = guard.ctx
        self.feed = ctx.feed or Feed(ctx.api.apps, ctx.api.store, ctx.changes)

    def _may(self, session: Session) -> Callable[[str | None], bool]:
        return viewer(self.guard.principal(session).grants, self.ctx.api.apps)

    async def page(self, request: Request, session: Session) -> Response:
        """The feed; only its entries (``#feed``) when the live stream asks for them."""
        self.feed.start()  # started by serve; here for a UI built without it
        mark = self.feed.mark  # before reading: anything newer reaches the stream
        q = ActivityQuery.parse(request.query_params)
        may = self._may(session)
        store = self.ctx.api.store
        syncs = [s for s in await store.list_syncs(q.app or None, limit=READ) if may(s.app)]
        audit: list[AuditEntry] = []
        if isinstance(store, AuditLog):
            audit = [e for e in await store.list_audit(READ, q.app or None) if may(e.app)]
        values: dict[str, Any] = {
            "q": q,
            "mark": mark,
            "syncs": q.syncs(syncs)[:SHOWN],
            "audit": q.audit(audit)[:SHOWN],
            "drift": q.drift([d for d in self.feed.drift if may(d.app)])[:SHOWN],
        }
        if request.headers.get("hx-target") == "feed":
            return self.guard.render(request, "_activity.html", session, **values)
        return self.guard.render(
            request,
            "activity.html",
            session,
            actions=sorted({e.action for e in audit} | ({q.action} - {""})),
            triggers=[t.value for t in SyncTrigger],
            app=q.app,
            **values,
        )

    async def events(self, request: Request, session: Session) -> Response:
        """Server-sent events: ``refresh`` when this tab's feed has something new."""
        self.feed.start()
        q = ActivityQuery.parse(request.query_params)
        seen = request.headers.get("last-event-id") or request.query_params.get("since")
        return sse_response(self._stream(request, session, q, seen))

    async def _stream(
        self, request: Request, session: Session, q: ActivityQuery, seen: str | None
    ) -> AsyncIterator[str]:
        feed = self.feed
        with feed.watch() as watcher:  # first: nothing published slips in between
            yield f"retry: 2000\nid: {feed.mark}\n\n"
            missed = feed.since(seen) if seen is not None else ()
            if missed is None or relevant(q, self._may(session), missed):
                yield _refresh(feed.mark)
            batches = watcher.batches(
                min_interval=self.ctx.min_interval,
                keepalive=self.ctx.keepalive,
                clock=self.ctx.clock,
            )
            async for batch in batches:
                if self.ctx.sessions.get(request.cookies.get(COOKIE)) is None:
                    yield _refresh(feed.mark)  # its request gets 401 and goes to login
                    return
                if batch is None:
                    yield ": keep-alive\n\n"
                    continue
                entries, unknown = batch
                # the grants of *now*: a role revoked mid-session stops the entries
                if unknown or relevant(q, self._may(session), entries):
                    yield _refresh(feed.mark)


def _refresh(mark: str) -> str:
    return sse_event("refresh", "", mark)


def routes(guard: Guard) -> list[Route]:
    activity = ActivityPage(guard)
    return [
        Route("/activity", guard.page(activity.page)),
        Route("/activity/events", guard.page(activity.events)),
    ]
