"""The web UI as a Starlette app: security headers, sign-in, and the routes.

Before: ``gitward serve --ui-listen`` (:mod:`gitward.ui.server`) builds a
:class:`~gitward.ui.context.UiContext`. After: :mod:`gitward.ui.pages` renders pages and
:mod:`gitward.ui.actions` performs actions, both through :class:`Guard`.

Every response carries a Content-Security-Policy that allows only gitward's own files
(``default-src 'self'``; no inline script or style, no ``eval``): an app name, label or
commit message that contains markup is escaped by Jinja2 and could not run even if it
were not. Every page needs a session; every action also needs the session's CSRF token
and passes :func:`gitward.api.auth.authorize`, the API's own check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gitward import __version__
from gitward.api.auth import ForbiddenError, Principal, authorize
from gitward.api.errors import BodyTooLargeError
from gitward.api.roles import scope, with_grants
from gitward.model import AppSpec
from gitward.model.history import AuditOutcome
from gitward.ui.context import UiContext
from gitward.ui.forms import form
from gitward.ui.sessions import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    Session,
    check_csrf,
)

HERE = Path(__file__).parent
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

Page = Callable[[Request, Session], Awaitable[Response]]


class SecurityHeaders:
    """Pure ASGI middleware (streams such as SSE pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += HEADERS
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.filters["short"] = lambda sha: (sha or "")[:12]
    env.filters["when"] = lambda at: at.strftime("%Y-%m-%d %H:%M:%S") if at else ""
    return env


class Guard:
    """Sessions, CSRF and authorization around every page and action."""

    def __init__(self, ctx: UiContext, env: jinja2.Environment) -> None:
        self.ctx = ctx
        self.env = env

    def session(self, request: Request) -> Session | None:
        return self.ctx.sessions.get(request.cookies.get(COOKIE))

    def principal(self, session: Session) -> Principal:
        """The session's principal with the grants the role policy gives it *now*."""
        return with_grants(self.ctx.api.roles, session.principal, session.groups)

    def may(self, session: Session, action: str, app: AppSpec | str | None = None) -> bool:
        """Whether to show an action: ``app`` is the app's spec (or, coarser, a project)."""
        try:
            if isinstance(app, AppSpec):
                authorize(self.principal(session), action, **scope(app))
            else:
                authorize(self.principal(session), action, app)
        except ForbiddenError:
            return False
        return True

    def render(
        self,
        request: Request,
        template: str,
        session: Session | None,
        code: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        values.setdefault("error", "")
        html = self.env.get_template(template).render(
            request=request,
            session=session,
            user=session.principal.name if session else "",
            csrf=session.csrf if session else "",
            may=(lambda action, app=None: self.may(session, action, app))
            if session
            else (lambda *_: False),
            sso=self.ctx.oidc is not None,
            **values,
        )
        return HTMLResponse(html, status_code=code)

    def to_login(self, request: Request) -> Response:
        """Back to the login page, keeping where the person was going.

        A form posted with an expired session is not replayed after login (the person
        should see the page again before acting); they return to the page the form was
        on, with its query (a sync dialog's preview, a list's filters), not to the POST's
        path.
        """
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = _same_origin_page(request) or target
        if request.headers.get("hx-request"):
            current = request.headers.get("hx-current-url", "/")
            path = "/" + current.split("/", 3)[3] if current.count("/") >= 3 else "/"
            login = f"/login?next={quote(path, safe='')}"
            return Response(status_code=401, headers={"HX-Redirect": login})
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def page(self, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                return self.to_login(request)
            try:
                authorize(self.principal(session), "list")
            except ForbiddenError as e:
                return self.forbidden(request, session, e)
            try:
                return await handler(request, session)
            except KeyError as e:
                return self.render(
                    request, "missing.html", session, 404, name=str(e.args[0] if e.args else "")
                )

        return endpoint

    def forbidden(self, request: Request, session: Session, e: ForbiddenError) -> Response:
        return self.render(request, "forbidden.html", session, 403, reason=e.message)

    async def csrf_ok(self, request: Request, session: Session) -> bool:
        presented = request.headers.get(CSRF_HEADER)
        if presented is None:
            try:
                presented = (await form(request)).get(CSRF_FIELD)
            except BodyTooLargeError:
                return False
        return check_csrf(session.csrf, presented)

    def action(self, verb: str, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        """A POST that changes something: session, CSRF, the API's authorization, audit."""

        async def endpoint(request: Request) -> Response:
            session = self.session(request)
            if session is None:
                return self.to_login(request)
            if not await self.csrf_ok(request, session):
                await self.ctx.api.store.audit(
                    session.principal.name, verb, request.url.path, outcome=AuditOutcome.DENIED
                )
                return self.render(
                    request,
                    "forbidden.html",
                    session,
                    403,
                    reason="the CSRF token is missing or wrong",
                )
            name = request.path_params.get("name")
            try:
                where = scope(self.ctx.api.apps.declared(str(name))) if name else {}
                authorize(self.principal(session), verb, **where)
            except KeyError:
                return self.render(request, "missing.html", session, 404, name=str(name))
            except ForbiddenError as e:
                await self.ctx.api.store.audit(
                    session.principal.name, verb, str(name or ""), outcome=AuditOutcome.DENIED
                )
                return self.forbidden(request, session, e)
            return await handler(request, session)

        return endpoint


def _same_origin_page(request: Request) -> str:
    """The path and query of the page that sent ``request`` ("" if another origin)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.scheme != request.url.scheme or referer.netloc != request.url.netloc:
        return ""
    return referer.path + (f"?{referer.query}" if referer.query else "")


def create_ui(ctx: UiContext) -> Starlette:
    """The UI's ASGI app; serve it on its own listener (``serve --ui-listen``)."""
    from gitward.ui import actions, bulk, login, objects, pages, views  # noqa: PLC0415

    guard = Guard(ctx, templates())
    routes = [
        *login.routes(guard),
        *pages.routes(guard),
        *actions.routes(guard),
        *objects.routes(guard),
        *bulk.routes(guard),
        *views.routes(guard),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    return app
