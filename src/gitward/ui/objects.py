"""The Application page's deeper views: object drawer, drift to Git, Events, compare.

Each handler reads like the Resources tab does: the app must be visible to the signed-in
person, the engine looks at the cluster (nothing written), and a template renders typed
views (:mod:`gitward.ui.drawer`, :mod:`gitward.ui.drift`, :mod:`gitward.ui.kevents`,
:mod:`gitward.ui.revisions`). A drawer asked for by htmx gets its fragment; a deep link
gets the whole page around it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gitward.api.roles import visible
from gitward.errors import ConfigError, GitwardError
from gitward.model import AppSpec
from gitward.model.history import SyncRecord
from gitward.ui import details, drawer, drift, kevents, revisions
from gitward.ui.app import Guard
from gitward.ui.sessions import Session

HISTORY_DEPTH = 200  # syncs searched for one object's own history


class Objects:
    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.ctx = guard.ctx

    def _spec(self, request: Request, session: Session) -> AppSpec:
        name = str(request.path_params["name"])
        spec = self.ctx.api.apps.declared(name)
        if name not in visible(self.guard.principal(session).grants, self.ctx.api.apps):
            raise KeyError(name)
        return spec

    def _show(self, request: Request, session: Session, fragment: str, **values: Any) -> Response:
        """The fragment for htmx, the whole page (``page.html`` around it) for a deep link."""
        partial = request.headers.get("hx-request") is not None
        template = fragment if partial else "page.html"
        return self.guard.render(request, template, session, fragment=fragment, **values)

    async def drawer(self, request: Request, session: Session) -> Response:
        spec = self._spec(request, session)
        key = request.query_params.get("key", "")
        found, problem = None, ""
        try:
            planned = await self.ctx.engine_for(spec).look(spec, details.options_for(key))
            step = drawer.find(planned, key)
            if step is None:
                problem = f"{spec.name} has no object {key}: it is not in Git nor live"
            else:
                syncs = await self.ctx.api.store.list_syncs(spec.name, limit=HISTORY_DEPTH)
                found = drawer.drawer(planned, spec, step, syncs)
        except GitwardError as e:
            problem = str(e)
        repo_url = spec.source.repo_url
        return self._show(
            request,
            session,
            "_object.html",
            spec=spec,
            obj=found,
            key=key,
            problem=problem,
            subject=lambda sha: self.ctx.subjects(repo_url, sha),
        )

    async def drift(self, request: Request, session: Session) -> Response:
        """Both suggestions for one drifted field: an ignore rule, and the patch for Git."""
        spec = self._spec(request, session)
        key, ptr = request.query_params.get("key", ""), request.query_params.get("ptr", "")
        ignore = keep = None
        problem, source = "", ""
        try:
            planned = await self.ctx.engine_for(spec).look(spec, details.options_for(key))
            step = drawer.find(planned, key)
            live = (planned.live.get(step.key) or step.live) if step else None
            if step is None or step.desired is None or live is None:
                raise ConfigError(f"{key} is not both in Git and live: nothing drifted")
            desired = planned.predicted.get(step.key, step.desired.body)
            rules = spec.ignore_differences
            ignore = drift.ignore_rule(step.key, ptr, desired, live, rules)
            keep = drift.keep_live(step.key, ptr, step.desired.body, live, rules)
            source = str(step.desired.source or "")
        except GitwardError as e:
            problem = str(e)
        return self._show(
            request,
            session,
            "_drift.html",
            spec=spec,
            key=key,
            ptr=ptr,
            ignore=ignore,
            keep=keep,
            source=source,
            problem=problem,
        )

    async def kube_events(self, request: Request, session: Session) -> Response:
        spec = self._spec(request, session)
        found: list[kevents.KubeEvent] = []
        problem = ""
        try:
            engine = self.ctx.engine_for(spec)
            keys = self.ctx.api.apps.objects(spec.name)  # as last looked: no look of its own
            if keys is None:
                planned = await engine.look(spec, details.options())
                keys = frozenset(s.key for s in planned.plan.steps)
            found = await kevents.events_of(engine.cluster, keys, spec.destination.namespace or "")
        except GitwardError as e:
            problem = str(e)
        return self.guard.render(
            request, "_kevents.html", session, spec=spec, events=found, problem=problem
        )

    async def compare(self, request: Request, session: Session) -> Response:
        """The diff between the commits of two history rows (``?a=ID&b=ID``)."""
        spec = self._spec(request, session)
        result, problem = None, ""
        try:
            a = await self._record(spec, request.query_params.get("a", ""))
            b = await self._record(spec, request.query_params.get("b", ""))
            result = await revisions.compare(self.ctx.engine_for(spec), spec, a, b)
        except GitwardError as e:
            problem = str(e)
        return self._show(
            request, session, "_compare.html", spec=spec, result=result, problem=problem
        )

    async def _record(self, spec: AppSpec, sync_id: str) -> SyncRecord:
        record = await self.ctx.api.store.get_sync(int(sync_id)) if sync_id.isdigit() else None
        if record is None or record.app != spec.name:
            raise ConfigError(
                f"{spec.name} has no sync {sync_id!r}: pick two rows of its History tab"
            )
        return record


def routes(guard: Guard) -> list[Route]:
    objects = Objects(guard)
    return [
        Route("/apps/{name}/object", guard.page(objects.drawer)),
        Route("/apps/{name}/drift", guard.page(objects.drift)),
        Route("/apps/{name}/kevents", guard.page(objects.kube_events)),
        Route("/apps/{name}/compare", guard.page(objects.compare)),
    ]
