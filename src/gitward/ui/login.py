"""Signing in and out: an API token in a password field, or single sign-on (OIDC).

The login form has no session yet, so its CSRF token is a double-submit cookie: a
random value set with the form (HttpOnly, SameSite=Strict) that the POST must echo in a
hidden field. The value is kept for an hour and reused by every login form meanwhile:
when a session expires, each open tab lands on its own login page, and signing in from
one must not make the others' forms stale. A wrong token is answered exactly like an
unknown one, and both are audited without the token. After sign-in the person lands on
the page they asked for (only ever a path on this server).
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gitward.api.auth import AuthError, Principal
from gitward.api.errors import BodyTooLargeError
from gitward.errors import GitwardError
from gitward.model.history import AuditOutcome
from gitward.ui.app import Guard
from gitward.ui.forms import form as form_of
from gitward.ui.sessions import COOKIE, CSRF_FIELD, LOGIN_COOKIE, check_csrf, safe_next

_LOGIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")  # token_urlsafe(24): 32 characters


def _cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def routes(guard: Guard) -> list[Route]:
    ctx = guard.ctx

    def form(
        request: Request, status: int = 200, error: str = "", target: str | None = None
    ) -> Response:
        token = request.cookies.get(LOGIN_COOKIE, "")
        if not _LOGIN_TOKEN.fullmatch(token):  # reused: every open login tab shares it
            token = secrets.token_urlsafe(24)
        response = guard.render(
            request,
            "login.html",
            None,
            status,
            login_csrf=token,
            next=safe_next(target or request.query_params.get("next")),
            error=error,
        )
        _cookie(response, request, LOGIN_COOKIE, token, 3600)
        return response

    def signed_in(request: Request, principal: Principal, target: str, **kw: object) -> Response:
        cookie, _ = ctx.sessions.create(principal, **kw)  # type: ignore[arg-type]
        response = RedirectResponse(safe_next(target), status_code=303)
        ttl = int(ctx.sessions.ttl)  # the cookie lives as long as the session
        _cookie(response, request, COOKIE, cookie, ttl)
        return response

    async def show(request: Request) -> Response:
        return form(request)

    async def submit(request: Request) -> Response:
        try:
            data = await form_of(request)
        except BodyTooLargeError:
            data = {}
        if not check_csrf(request.cookies.get(LOGIN_COOKIE, ""), data.get(CSRF_FIELD)):
            return form(request, 403, "The form expired; sign in again.", data.get("next"))
        token = data.get("token")
        try:
            principal = ctx.api.authenticator.authenticate(f"Bearer {token}" if token else None)
        except AuthError:
            await ctx.api.store.audit("ui", "login", "token", outcome=AuditOutcome.DENIED)
            return form(request, 401, "That token is not valid.", data.get("next"))
        await ctx.api.store.audit(principal.name, "login", "token")
        return signed_in(request, principal, data.get("next", "/"))

    async def sso(request: Request) -> Response:
        if ctx.oidc is None:
            return form(request, 404, "Single sign-on is not configured.")
        try:
            url = await ctx.oidc.begin(safe_next(request.query_params.get("next")))
        except GitwardError as e:
            return form(request, 502, f"Single sign-on is unavailable: {e.message}")
        return RedirectResponse(url, status_code=303)

    async def callback(request: Request) -> Response:
        if ctx.oidc is None:
            return form(request, 404, "Single sign-on is not configured.")
        params = request.query_params
        try:
            identity, target = await ctx.oidc.finish(
                params.get("code", ""), params.get("state", ""), params.get("error")
            )
        except GitwardError as e:
            await ctx.api.store.audit("ui", "login", "sso", outcome=AuditOutcome.DENIED)
            return form(request, 401, f"Single sign-on failed: {e.message}")
        principal = Principal(identity.user, frozenset())
        await ctx.api.store.audit(
            identity.user, "login", "sso", details={"groups": identity.groups}
        )
        return signed_in(request, principal, target, groups=identity.groups, via="sso")

    async def logout(request: Request) -> Response:
        session = guard.session(request)
        if session is not None and await guard.csrf_ok(request, session):
            ctx.sessions.drop(request.cookies.get(COOKIE))
            await ctx.api.store.audit(session.principal.name, "logout", "ui")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return [
        Route("/login", show, methods=["GET"]),
        Route("/login", submit, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/auth/sso", sso, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
    ]
