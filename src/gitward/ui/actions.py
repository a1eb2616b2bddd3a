"""Actions from the browser: sync, refresh, suspend, resume, roll back, unpin.

Each is a POST through :meth:`Guard.action` (session, CSRF token, the API's
authorization on the app's project), then the same controller call the API makes, then
an audit entry with the signed-in person. Confirmations are pages of their own, so what
will happen is on screen before it happens: the sync dialog shows the dry-run plan per
wave, the rollback page shows the diff to the target commit, secrets masked.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gitward.api.syncbody import check_objects
from gitward.errors import ConfigError, GitwardError
from gitward.model.history import Trigger
from gitward.model.syncrequest import SyncRequest, parse_key
from gitward.ui import details
from gitward.ui.app import Guard
from gitward.ui.forms import form, form_values
from gitward.ui.sessions import Session

SIMPLE = ("refresh", "suspend", "resume", "unpin")


class Actions:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.ctx = guard.ctx

    def _back(self, name: str, done: str) -> Response:
        return RedirectResponse(f"/apps/{quote(name, safe='')}?done={done}", status_code=303)

    async def _audit(self, session: Session, verb: str, name: str, **details: object) -> None:
        await self.ctx.api.store.audit(
            session.principal.name, verb, name, app=name, details={"via": "ui", **details}
        )

    # ------------------------------------------------------------------ sync

    async def sync_dialog(self, request: Request, session: Session) -> Response:
        """The sync dialog; with ``preview=1`` the dry-run plan, wave by wave."""
        name = str(request.path_params["name"])
        spec = self.ctx.api.apps.declared(name)
        if not self.guard.may(session, "sync", spec):
            return self.guard.render(
                request, "forbidden.html", session, 403, reason=f"you may not sync {name}"
            )
        looked, problem = None, ""
        if request.query_params.get("preview") == "1":
            try:
                looked = await details.look(self.ctx.engine_for(spec), spec)
            except GitwardError as e:
                problem = str(e)
        objects = sorted(self.ctx.api.apps.objects(name) or (), key=str)
        return self.guard.render(
            request,
            "sync.html",
            session,
            spec=spec,
            looked=looked,
            problem=problem,
            objects=[str(k) for k in objects],
        )

    async def sync(self, request: Request, session: Session) -> Response:
        """Sync now, with the dialog's options for this run (prune, force, objects)."""
        name = str(request.path_params["name"])
        apps = self.ctx.api.apps
        try:
            asked = await _dialog_request(request, apps.declared(name).sync_policy.prune)
            check_objects(apps, name, asked)
            apps.trigger(name, Trigger.MANUAL, session.principal.name, asked)
        except GitwardError as e:
            return self.guard.render(
                request, "forbidden.html", session, 400, reason=f"sync refused: {e}"
            )
        await self._audit(session, "sync", name, **({} if asked.default else asked.to_json()))
        return self._back(name, "sync")

    def simple(self, verb: str) -> object:
        async def handler(request: Request, session: Session) -> Response:
            name = str(request.path_params["name"])
            apps, actor = self.ctx.api.apps, session.principal.name
            if verb == "refresh":
                apps.trigger(name, Trigger.REFRESH, actor)
            elif verb in ("suspend", "resume"):
                await apps.suspend(name, verb == "suspend", actor)
            else:
                await self.ctx.api.rollbacks.unpin(name, actor)
            await self._audit(session, verb, name)
            return self._back(name, verb)

        return handler

    # ------------------------------------------------------------------ rollback

    async def rollback_preview(self, request: Request, session: Session) -> Response:
        """The diff a rollback would apply, and the confirm button under it."""
        name = str(request.path_params["name"])
        spec = self.ctx.api.apps.declared(name)
        if not self.guard.may(session, "rollback", spec):
            return self.guard.render(
                request, "forbidden.html", session, 403, reason=f"you may not roll back {name}"
            )
        target = request.query_params.get("to", "")
        preview, problem = None, ""
        try:
            preview = await self.ctx.api.rollbacks.preview(name, target)
        except GitwardError as e:
            problem = str(e)
        return self.guard.render(
            request,
            "rollback.html",
            session,
            spec=spec,
            target=target,
            preview=preview,
            lines=details.diff_lines(preview["diff"]) if preview else (),
            problem=problem,
        )

    async def rollback(self, request: Request, session: Session) -> Response:
        name = str(request.path_params["name"])
        fields = await form(request)  # already read, and bounded, by the CSRF check
        target = fields.get("to", "")
        until = fields.get("until_new_commit") == "on"
        try:
            sha = await self.ctx.api.rollbacks.pin(
                name, target, session.principal.name, until_new_commit=until
            )
        except GitwardError as e:
            return self.guard.render(
                request, "forbidden.html", session, 422, reason=f"rollback refused: {e}"
            )
        await self._audit(session, "rollback", name, to=target, sha=sha, untilNewCommit=until)
        return self._back(name, "rollback")


async def _dialog_request(request: Request, policy_prune: bool) -> SyncRequest:
    """The dialog's choices; only those that differ from a plain sync are kept. A form
    without the dialog's fields (an older page) is a plain sync."""
    fields = await form(request)
    if fields.get("options") != "1":
        return SyncRequest()
    prune = fields.get("prune") == "on"
    try:
        only = {parse_key(v) for v in await form_values(request, "only")}
    except ValueError as e:
        raise ConfigError(str(e)) from e
    return SyncRequest(
        prune=None if prune == policy_prune else prune,
        force=None if fields.get("force") == "on" else False,
        only=tuple(sorted(only, key=str)),
    )


def routes(guard: Guard) -> list[Route]:
    actions = Actions(guard)
    return [
        Route("/apps/{name}/sync", guard.page(actions.sync_dialog), methods=["GET"]),
        Route("/apps/{name}/sync", guard.action("sync", actions.sync), methods=["POST"]),
        Route("/apps/{name}/rollback", guard.page(actions.rollback_preview), methods=["GET"]),
        Route(
            "/apps/{name}/rollback", guard.action("rollback", actions.rollback), methods=["POST"]
        ),
        *[
            Route(
                f"/apps/{{name}}/{verb}",
                guard.action(verb, actions.simple(verb)),  # type: ignore[arg-type]
                methods=["POST"],
            )
            for verb in SIMPLE
        ],
    ]
