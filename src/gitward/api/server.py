"""The HTTP API of ``gitward serve``: applications, actions, webhooks, health, metrics.

Every ``/api/v1`` route needs a bearer token; reads need the viewer role, actions the
admin role, and every action is written to the audit log with the person who asked.
Webhooks are authenticated by their provider's signature or token instead, verified
before the body is parsed; an unverified request gets 401 and changes nothing.
``/healthz``, ``/readyz`` and ``/metrics`` are open: they carry no secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gitward.api import views
from gitward.api.auth import AuthError, ForbiddenError, Principal, TokenAuthenticator, authorize
from gitward.api.bodies import MAX_ACTION_BYTES, MAX_WEBHOOK_BYTES, read_body
from gitward.api.clusters import ClusterSource, cluster_view
from gitward.api.errors import BodyTooLargeError
from gitward.api.replay import DeliveryLog
from gitward.api.roles import RoleSource, scope, visible, with_grants
from gitward.api.syncbody import check_objects, parse_sync_body
from gitward.api.webhooks import (
    WebhookAuthError,
    WebhookPayloadError,
    detect_provider,
    normalize_repo_url,
    parse_push,
    verify,
)
from gitward.errors import ConfigError, GitwardError
from gitward.model.history import AuditOutcome, Trigger
from gitward.ports import AppsView, HistoryStore
from gitward.reconcile.metrics import Metrics
from gitward.reconcile.rollback import Rollbacks

log = logging.getLogger("gitward.api")
PROVIDERS = ("github", "gitlab", "gitea", "bitbucket")


@dataclass
class ApiContext:
    apps: AppsView  # the controller, read through a narrow interface
    store: HistoryStore
    authenticator: TokenAuthenticator
    metrics: Metrics
    rollbacks: Rollbacks
    webhook_secret: bytes | None
    ready: Callable[[], str]  # "" when ready, else why not
    warnings: Callable[[], list[str]] = list  # shown by /readyz, which stays ready
    on_config_push: Callable[[frozenset[str]], Awaitable[bool]] | None = None
    deliveries: DeliveryLog = field(default_factory=DeliveryLog)  # webhook replays
    clusters: ClusterSource = tuple  # each cluster's health (gitward.api.clusters)
    roles: RoleSource = field(default_factory=RoleSource)  # --roles, the config repo's
    fleet: Callable[[], list[dict[str, Any]]] = list  # targeted apps, their rollouts


def _error(status: int, message: str, hint: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": message}
    if hint:
        body["hint"] = hint
    return JSONResponse(body, status_code=status)


def _error_response(error: Exception) -> Response:
    """The status code and JSON body for an error raised while serving a request."""
    if isinstance(error, AuthError):
        return JSONResponse(
            {"error": error.message}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(error, ForbiddenError):
        return _error(403, error.message)
    if isinstance(error, KeyError):
        return _error(404, f"no application named {error.args[0]!r}")
    if isinstance(error, ConfigError | BodyTooLargeError):
        status = error.status if isinstance(error, BodyTooLargeError) else 400
        return _error(status, error.message, error.hint)
    if isinstance(error, GitwardError):
        return _error(503 if error.transient else 422, error.message, error.hint)
    return _error(400, str(error))


def _scope(ctx: ApiContext, request: Request) -> dict[str, str]:
    """The project, name and cluster of the application a request names (for roles)."""
    name = request.path_params.get("name")
    if name is None or not request.url.path.startswith("/api/v1/applications/"):
        return {}
    return scope(ctx.apps.declared(str(name)))  # KeyError: 404


def create_app(ctx: ApiContext) -> Starlette:
    def guarded(
        action: str, handler: Callable[[Request, Principal], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                principal = ctx.authenticator.authenticate(request.headers.get("authorization"))
                principal = with_grants(ctx.roles, principal)
                authorize(principal, action, **_scope(ctx, request))
                return await handler(request, principal)
            except (GitwardError, KeyError, ValueError) as e:
                return _error_response(e)

        return endpoint

    handlers = _Handlers(ctx)
    routes = [
        Route("/healthz", handlers.healthz),
        Route("/readyz", handlers.readyz),
        Route("/metrics", handlers.metrics),
        Route("/api/v1/applications", guarded("list", handlers.list_apps)),
        Route("/api/v1/applications/{name}", guarded("get", handlers.get_app)),
        Route("/api/v1/applications/{name}/history", guarded("history", handlers.history)),
        *[
            Route(
                f"/api/v1/applications/{{name}}/{verb}",
                guarded(verb, handlers.action(verb)),
                methods=["POST"],
            )
            for verb in ("sync", "refresh", "suspend", "resume", "unpin")
        ],
        Route(
            "/api/v1/applications/{name}/rollback",
            guarded("rollback", handlers.rollback),
            methods=["POST"],
        ),
        Route("/api/v1/webhooks/{provider}", handlers.webhook, methods=["POST"]),
        Route("/api/v1/clusters", guarded("list", handlers.list_clusters)),
        Route("/api/v1/clusters/{name}", guarded("get", handlers.get_cluster)),
        Route("/api/v1/fleet", guarded("list", handlers.list_fleet)),
        Route("/api/v1/fleet/{name}", guarded("get", handlers.get_fleet)),
    ]
    return Starlette(routes=routes)


class _Handlers:
    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        reason = self.ctx.ready()
        body = "\n".join([reason or "ok", *self.ctx.warnings()])
        return PlainTextResponse(body, status_code=503 if reason else 200)

    async def metrics(self, request: Request) -> Response:
        views.update_app_gauges(self.ctx.apps, self.ctx.metrics)
        return Response(self.ctx.metrics.render(), media_type=self.ctx.metrics.content_type)

    def _app(self, request: Request) -> str:
        name = str(request.path_params["name"])
        self.ctx.apps.declared(name)  # KeyError: 404
        return name

    async def list_apps(self, request: Request, principal: Principal) -> Response:
        apps = [
            await views.app_view(self.ctx.apps, self.ctx.store, n)
            for n in visible(principal.grants, self.ctx.apps)
        ]
        return JSONResponse({"items": apps})

    async def get_app(self, request: Request, principal: Principal) -> Response:
        name = self._app(request)
        return JSONResponse(await views.app_view(self.ctx.apps, self.ctx.store, name))

    async def history(self, request: Request, principal: Principal) -> Response:
        name = self._app(request)
        limit = int(request.query_params.get("limit", "20"))
        records = await self.ctx.store.list_syncs(name, limit=max(1, min(limit, 500)))
        return JSONResponse({"items": [views.sync_view(r) for r in records]})

    def action(self, verb: str) -> Callable[[Request, Principal], Awaitable[Response]]:
        async def handler(request: Request, principal: Principal) -> Response:
            name = self._app(request)
            apps = self.ctx.apps
            details: dict[str, Any] = {}
            if verb == "sync":
                asked = parse_sync_body(await read_body(request, MAX_ACTION_BYTES))
                check_objects(apps, name, asked)  # unknown objects: 400, nothing queued
                apps.trigger(name, Trigger.MANUAL, principal.name, asked)
                details = {} if asked.default else {"options": asked.to_json()}
            elif verb == "refresh":
                apps.trigger(name, Trigger.REFRESH, principal.name)
            elif verb in ("suspend", "resume"):
                await apps.suspend(name, verb == "suspend", principal.name)
            elif verb == "unpin":
                await self.ctx.rollbacks.unpin(name, principal.name)
            await self.ctx.store.audit(principal.name, verb, name, app=name, details=details)
            return JSONResponse({"app": name, "action": verb, "accepted": True}, status_code=202)

        return handler

    async def rollback(self, request: Request, principal: Principal) -> Response:
        name = self._app(request)
        try:
            body = orjson.loads(await read_body(request, MAX_ACTION_BYTES))
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            return _error(400, 'the body must be JSON like {"to": "<sync id or revision>"}')
        target = str(body.get("to") or "")
        if not target:
            return _error(400, 'say where to roll back to: {"to": "<sync id or revision>"}')
        if body.get("dryRun"):
            preview = await self.ctx.rollbacks.preview(name, target)
            return JSONResponse(preview)
        until = bool(body.get("untilNewCommit"))
        pinned = await self.ctx.rollbacks.pin(name, target, principal.name, until_new_commit=until)
        await self.ctx.store.audit(
            principal.name,
            "rollback",
            name,
            app=name,
            details={"to": target, "sha": pinned, "untilNewCommit": until},
        )
        return JSONResponse({"app": name, "pinned": pinned, "accepted": True}, status_code=202)

    async def list_clusters(self, request: Request, principal: Principal) -> Response:
        entries = self.ctx.clusters()
        return JSONResponse({"items": [cluster_view(e, self.ctx.apps) for e in entries]})

    async def get_cluster(self, request: Request, principal: Principal) -> Response:
        name = str(request.path_params["name"])
        for entry in self.ctx.clusters():
            if entry.health.name == name:
                return JSONResponse(cluster_view(entry, self.ctx.apps))
        return _error(404, f"no cluster named {name!r}", "see `gitward cluster list`")

    async def list_fleet(self, request: Request, principal: Principal) -> Response:
        return JSONResponse({"items": self.ctx.fleet()})

    async def get_fleet(self, request: Request, principal: Principal) -> Response:
        name = str(request.path_params["name"])
        for item in self.ctx.fleet():
            if item["name"] == name:
                return JSONResponse(item)
        return _error(404, f"no targeted application named {name!r}")

    async def webhook(self, request: Request) -> Response:
        provider = str(request.path_params["provider"])
        if provider not in PROVIDERS:
            return _error(404, f"unknown webhook provider {provider!r}")
        try:
            body = await read_body(request, MAX_WEBHOOK_BYTES)
        except BodyTooLargeError as e:
            return _error(e.status, e.message, e.hint)
        headers = dict(request.headers)
        try:
            verify(provider, headers, body, self.ctx.webhook_secret or b"")
        except WebhookAuthError as e:
            await self.ctx.store.audit(
                f"webhook:{provider}",
                "webhook",
                provider,
                outcome=AuditOutcome.DENIED,
                details={"reason": e.message},
            )
            return JSONResponse({"error": e.message}, status_code=401)
        replayed = self.ctx.deliveries.replayed(provider, headers, body)
        detected = detect_provider(headers)
        try:
            events = () if replayed else parse_push(provider, headers, body)
        except WebhookPayloadError as e:
            return _error(400, e.message)
        if not events:
            ignored = f"not a push event ({detected or 'unknown'})"
            if replayed:
                ignored = "this delivery was already received (a replay)"
            return JSONResponse({"ignored": ignored})
        urls = frozenset(u for event in events for u in event.repo_urls)
        apps = self.ctx.apps.apps_for_push(urls, normalize_repo_url)
        for app in apps:
            self.ctx.apps.trigger(app, Trigger.WEBHOOK, f"webhook:{provider}")
        config = bool(self.ctx.on_config_push and await self.ctx.on_config_push(urls))
        refs = [event.ref for event in events]
        await self.ctx.store.audit(
            f"webhook:{provider}",
            "webhook",
            ",".join(refs),
            details={"apps": apps, "config": config, "after": [e.after for e in events]},
        )
        return JSONResponse({"apps": apps, "config": config, "refs": refs})
