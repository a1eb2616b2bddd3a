"""The pages: Applications (``/``), one Application, Settings; the list's live stream.

The Activity page and its stream are in :mod:`gitward.ui.activity_page`.

Every handler reads the controller through the API's :class:`~gitward.ports.AppsView`
and the history store, filters to what the signed-in person may view, and renders a
template. The list and its rows are computed by :mod:`gitward.ui.listing`; the live
stream sends only the rows of the page a tab shows (:mod:`gitward.ui.live`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from gitward.api.roles import visible
from gitward.errors import GitwardError
from gitward.ui import activity_page, details, listing, tree
from gitward.ui.app import Guard
from gitward.ui.bulk import VERBS
from gitward.ui.live import coalesce, sse_event, sse_response
from gitward.ui.sessions import COOKIE, Session
from gitward.ui.table import AppTable

TABS = ("resources", "diff", "history", "events")


class Pages:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.ctx = guard.ctx
        self.table = AppTable(self.ctx.api.apps, self.ctx.changes, self.ctx.subjects)
        self._html: dict[tuple[str, bool], tuple[listing.Row, Markup]] = {}

    # ------------------------------------------------------------------ the list

    def select(self, session: Session, query: listing.Query) -> listing.Page:
        """One page of the apps this person may view (:class:`gitward.ui.table.AppTable`)."""
        return self.table.select(self.guard.principal(session).grants, query)

    def row_html(self, rows: Iterable[listing.Row], oob: bool = False) -> Markup:
        """The rows' HTML, each rendered once per change of its row (rows are frozen).

        Rendering 50 rows through an included template was a third of the list page's
        time; a row's HTML depends only on the row, so it is kept until the row changes.
        """
        parts = []
        template = self.guard.env.get_template("_row.html")
        for r in rows:
            cached = self._html.get((r.name, oob))
            if cached is None or cached[0] is not r:
                cached = (r, Markup(template.render(r=r, oob=oob)))  # noqa: S704 - escaped by Jinja2
                self._html[(r.name, oob)] = cached
            parts.append(cached[1])
        if len(self._html) > 2 * len(self.table.index.rows) + 1000:
            self._html = {k: v for k, v in self._html.items() if k[0] in self.table.index.rows}
        return Markup("").join(parts)

    def page_of(self, request: Request, session: Session) -> listing.Page:
        return self.select(session, listing.Query.parse(request.query_params))

    async def apps(self, request: Request, session: Session) -> Response:
        # Read before the rows: a change published after this is caught by the stream
        # (its URL says since=generation), even if the page shows it already.
        generation = self.ctx.changes.generation
        page = self.page_of(request, session)
        projects = {r.project for r in page.rows}
        values: dict[str, Any] = {
            "generation": generation,
            "page": page,
            "q": page.query,
            "row_html": self.row_html,
            # the bulk buttons this person may use on some row of the page
            "bulk": [v for v in VERBS if any(self.guard.may(session, v, p) for p in projects)],
            "views": self.ctx.views.of(session.principal.name),
            "views_problem": self.ctx.views.problem,
        }
        if request.headers.get("hx-target") != "list":
            return self.guard.render(request, "apps.html", session, **values)
        response = self.guard.render(request, "_list.html", session, **values)
        params = page.query.params()  # the canonical deep link, without empty filters
        response.headers["HX-Push-Url"] = f"/?{params}" if params else "/"
        return response

    async def events(self, request: Request, session: Session) -> Response:
        """Server-sent events: changed rows of this tab's page, coalesced."""
        query = listing.Query.parse(request.query_params)
        # A reconnect says what it had seen; a stream rebuilt by htmx sends no
        # Last-Event-ID, and the first connect none either: the page's URL says
        # which generation it was rendered at, so changes in between are not lost.
        seen = request.headers.get("last-event-id") or request.query_params.get("since")
        return sse_response(self._stream(request, session, query, seen))

    async def _stream(
        self, request: Request, session: Session, query: listing.Query, seen: str | None
    ) -> AsyncIterator[str]:
        changes = self.ctx.changes
        with changes.subscribe() as subscriber:  # first: no change slips in between
            # An id from the start: a stream cut before its first change still reconnects
            # with Last-Event-ID, and a reconnect that missed changes catches up.
            yield f"retry: 2000\nid: {changes.generation}\n\n"
            if seen is not None and seen != str(changes.generation):
                yield sse_event("refresh", "", changes.generation)
            batches = coalesce(
                subscriber,
                min_interval=self.ctx.min_interval,
                keepalive=self.ctx.keepalive,
                clock=self.ctx.clock,
            )
            shown = {r.name for r in self.select(session, query).rows}
            async for batch in batches:
                if self.ctx.sessions.get(request.cookies.get(COOKIE)) is None:
                    # the page's refresh then gets 401 + HX-Redirect to the login page
                    yield sse_event("refresh", "", changes.generation)
                    return
                if batch is None:
                    yield ": keep-alive\n\n"
                    continue
                names, membership = batch
                page = self.select(session, query)
                now_shown = {r.name for r in page.rows}
                if membership or now_shown != shown:
                    shown = now_shown
                    yield sse_event("refresh", "", changes.generation)
                    continue
                rows = [r for r in page.rows if r.name in names]
                if rows:
                    yield sse_event("rows", self.row_html(rows, oob=True), changes.generation)

    # ------------------------------------------------------------------ one app

    async def app(self, request: Request, session: Session) -> Response:
        name = str(request.path_params["name"])
        apps = self.ctx.api.apps
        spec, status = apps.declared(name), apps.observed(name)
        if name not in visible(self.guard.principal(session).grants, apps):
            raise KeyError(name)
        tab = request.query_params.get("tab", "resources")
        tab = tab if tab in TABS else "resources"
        syncs = await self.ctx.api.store.list_syncs(name, limit=50)
        last = syncs[0] if syncs else None
        repo_url = spec.source.repo_url
        return self.guard.render(
            request,
            "app.html",
            session,
            spec=spec,
            status=status,
            row=listing.row(spec, status),
            tab=tab,
            syncs=syncs,
            last=last,
            # a commit's subject, read from the mirror (escaped by Jinja2 like any text)
            subject=lambda sha: self.ctx.subjects(repo_url, sha),
            waiting=[
                d for d in spec.depends_on if apps.observed(d).health.status.value != "Healthy"
            ]
            if all(d in apps.names() for d in spec.depends_on)
            else list(spec.depends_on),
        )

    async def look(self, request: Request, session: Session) -> Response:
        """The Resources or Diff tab's body: needs the cluster, so loaded after the page."""
        name = str(request.path_params["name"])
        spec = self.ctx.api.apps.declared(name)
        if name not in visible(self.guard.principal(session).grants, self.ctx.api.apps):
            raise KeyError(name)
        tab = request.query_params.get("tab", "resources")
        engine = self.ctx.engine_for(spec)
        try:
            looked = await details.look(engine, spec)
        except GitwardError as e:
            return HTMLResponse(self.guard.env.get_template("_problem.html").render(message=str(e)))
        objects = details.failing_first(looked.objects)
        if tab == "diff":
            return self.guard.render(
                request, "_diff.html", session, spec=spec, looked=looked, objects=objects
            )
        made = await tree.children_of(engine.cluster, looked.objects)
        return self.guard.render(
            request,
            "_resources.html",
            session,
            spec=spec,
            looked=looked,
            objects=objects,
            tree=tree.tree(looked.objects, made.found),
            made=made,
        )

    # ------------------------------------------------------------------ other pages

    async def settings(self, request: Request, session: Session) -> Response:
        about: dict[str, Any] = self.ctx.about()
        return self.guard.render(
            request,
            "settings.html",
            session,
            about=about,
            queue=self.ctx.api.apps.queue_depth(),
            ready=self.ctx.api.ready() or "ready",
            warnings=self.ctx.api.warnings(),
            policy=self.ctx.api.roles,
        )


def routes(guard: Guard) -> list[Route]:
    pages = Pages(guard)
    return [
        Route("/", guard.page(pages.apps)),
        Route("/events", guard.page(pages.events)),
        Route("/apps/{name}", guard.page(pages.app)),
        Route("/apps/{name}/look", guard.page(pages.look)),
        *activity_page.routes(guard),
        Route("/settings", guard.page(pages.settings)),
    ]
