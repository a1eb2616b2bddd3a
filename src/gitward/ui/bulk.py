"""Bulk actions on the Applications list: sync, refresh, suspend or resume many apps.

Before: a person ticks rows of the list (``app`` checkboxes of the form ``bulk``) and
presses one button. After: ONE request (``POST /bulk``) acts on each app in turn, and
the answer lists the outcome per app, shown above the list.

Each app is checked on its own, with the same check as a single action
(:func:`gitward.api.auth.authorize` on the app's scope): someone who may sync team-a's
apps but not team-b's gets team-a's synced and team-b's refused, each named, and every
app's outcome (done or denied) is in the audit log under the signed-in user. The session
and its CSRF token are checked once for the request, as for every form.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gitward.api.auth import ForbiddenError, authorize
from gitward.api.roles import scope
from gitward.model.history import AuditOutcome, Trigger
from gitward.ui.app import Guard
from gitward.ui.forms import form, form_values
from gitward.ui.sessions import Session

VERBS = ("sync", "refresh", "suspend", "resume")
MAX_APPS = 200  # the largest page of the list


@dataclass(frozen=True)
class Outcome:
    app: str
    done: bool
    message: str


class Bulk:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.ctx = guard.ctx

    async def endpoint(self, request: Request) -> Response:
        session = self.guard.session(request)
        if session is None:
            return self.guard.to_login(request)
        if not await self.guard.csrf_ok(request, session):
            await self.ctx.api.store.audit(
                session.principal.name, "bulk", "/bulk", outcome=AuditOutcome.DENIED
            )
            return self.refuse(request, session, "the CSRF token is missing or wrong", 403)
        verb = (await form(request)).get("verb", "")
        names = list(dict.fromkeys(await form_values(request, "app")))
        if verb not in VERBS:
            return self.refuse(request, session, f"unknown bulk action {verb!r}", 422)
        if not names:
            return self.refuse(request, session, "no application is selected", 422)
        if len(names) > MAX_APPS:
            return self.refuse(
                request, session, f"{len(names)} apps selected; at most {MAX_APPS} at once", 422
            )
        outcomes = [await self.one(session, verb, name) for name in names]
        return self.guard.render(
            request, self._template(request), session, verb=verb, outcomes=outcomes, reason=""
        )

    async def one(self, session: Session, verb: str, name: str) -> Outcome:
        """``verb`` on one app: authorised, done and audited on its own."""
        apps, actor = self.ctx.api.apps, session.principal.name
        try:
            spec = apps.declared(name)
        except KeyError:
            return Outcome(name, False, "no such application")
        try:
            authorize(self.guard.principal(session), verb, **scope(spec))
        except ForbiddenError as e:
            await self._audit(actor, verb, name, AuditOutcome.DENIED)
            return Outcome(name, False, e.message)
        if verb in ("sync", "refresh"):
            apps.trigger(name, Trigger.MANUAL if verb == "sync" else Trigger.REFRESH, actor)
            message = "sync queued" if verb == "sync" else "refresh queued"
        else:
            await apps.suspend(name, verb == "suspend", actor)
            message = "suspended" if verb == "suspend" else "resumed"
        await self._audit(actor, verb, name, AuditOutcome.SUCCEEDED)
        return Outcome(name, True, message)

    async def _audit(self, actor: str, verb: str, name: str, outcome: AuditOutcome) -> None:
        details = {"via": "ui", "bulk": True}
        await self.ctx.api.store.audit(
            actor, verb, name, outcome=outcome, app=name, details=details
        )

    def refuse(self, request: Request, session: Session, reason: str, code: int) -> Response:
        """The reason, shown where the outcomes go (htmx swaps only 2xx answers: 200)."""
        code = 200 if request.headers.get("hx-request") else code
        return self.guard.render(
            request, self._template(request), session, code, verb="", outcomes=[], reason=reason
        )

    @staticmethod
    def _template(request: Request) -> str:
        return "_bulk.html" if request.headers.get("hx-request") else "bulk.html"


def routes(guard: Guard) -> list[Route]:
    return [Route("/bulk", Bulk(guard).endpoint, methods=["POST"])]
