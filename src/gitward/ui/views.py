"""Saved views of the Applications list: named filter sets, per user, on the server.

Before: a person has filtered, searched and sorted the list (all of it in the URL).
After: *Save view* keeps that query under a name for that person; the list shows their
views as links, so a view is one click (and still a deep link, ``/?<its query>``).

Stored per user name (the token's name or the SSO user's email) in
``<state-dir>/ui-views.json`` (mode 0600, replaced atomically), so views survive a
restart and follow the person to any browser; held in memory when there is no state
directory (tests of the pure parts, the benchmark). A view holds only the list's query,
as :meth:`gitward.ui.listing.Query.params` writes it, never a page number.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gitward.errors import GitwardError
from gitward.ui.forms import form
from gitward.ui.listing import Query
from gitward.ui.sessions import Session

if TYPE_CHECKING:
    from gitward.ui.app import Guard

MAX_VIEWS = 30  # per user
MAX_NAME = 60


class ViewError(GitwardError):
    """A view that cannot be saved: the message says which field and what to do."""


@dataclass(frozen=True)
class View:
    name: str
    params: str  # the list's query string, canonical, without the page


def canonical(params: dict[str, str]) -> str:
    """The query ``params`` as a view keeps it: parsed, defaults dropped, page 1."""
    return replace(Query.parse(params), page=1).params()


class SavedViews:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.problem = ""  # a damaged file: shown, and nothing is written over it
        self._views: dict[str, list[View]] = {}
        if path is not None and path.is_file():
            try:
                self._views = _read(path)
            except ViewError as e:
                self.problem = str(e)

    def of(self, user: str) -> list[View]:
        return list(self._views.get(user, []))

    def save(self, user: str, name: str, params: dict[str, str]) -> View:
        """Keep ``params`` as ``name`` for ``user`` (a view of that name is replaced)."""
        name = " ".join(name.split())
        if self.problem:
            raise ViewError(self.problem)
        if not name:
            raise ViewError("the view needs a name", hint="type one next to Save view")
        if len(name) > MAX_NAME:
            raise ViewError(f"the view name is {len(name)} characters; at most {MAX_NAME}")
        views = [v for v in self._views.get(user, []) if v.name != name]
        if len(views) >= MAX_VIEWS:
            raise ViewError(
                f"{user} has {len(views)} saved views, the most there may be",
                hint="delete one first",
            )
        view = View(name, canonical(params))
        self._views[user] = sorted([*views, view], key=lambda v: v.name.lower())
        self._write()
        return view

    def delete(self, user: str, name: str) -> bool:
        if self.problem:
            raise ViewError(self.problem)
        views = self._views.get(user, [])
        kept = [v for v in views if v.name != name]
        self._views[user] = kept
        self._write()
        return len(kept) != len(views)

    def _write(self) -> None:
        if self.path is None:
            return
        data = {u: [[v.name, v.params] for v in views] for u, views in self._views.items() if views}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ui-views.")
        with os.fdopen(fd, "w") as out:  # mkstemp: mode 0600
            json.dump(data, out, indent=1, sort_keys=True)
        Path(tmp).replace(self.path)


def _read(path: Path) -> dict[str, list[View]]:
    """The stored views; a damaged file is an error naming it, not lost views."""
    try:
        data = json.loads(path.read_text())
        return {str(u): [View(str(n), str(p)) for n, p in views] for u, views in data.items()}
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise ViewError(
            f"{path}: the saved views cannot be read ({e})",
            hint="fix or remove the file; it holds only the UI's saved views",
        ) from e


class ViewRoutes:
    """``POST /views`` saves the list's current query; ``POST /views/delete`` drops one.

    Plain forms (session, CSRF token and the ``list`` permission, through
    :meth:`gitward.ui.app.Guard.action`), answered by a redirect to the list.
    """

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.views = guard.ctx.views

    async def save(self, request: Request, session: Session) -> Response:
        fields = await form(request)
        params = dict(parse_qsl(fields.get("params", "")))
        try:
            view = self.views.save(session.principal.name, fields.get("name", ""), params)
        except ViewError as e:
            return self.guard.render(request, "view_error.html", session, 422, reason=str(e))
        return RedirectResponse(f"/?{view.params}" if view.params else "/", status_code=303)

    async def delete(self, request: Request, session: Session) -> Response:
        fields = await form(request)
        try:
            self.views.delete(session.principal.name, fields.get("name", ""))
        except ViewError as e:
            return self.guard.render(request, "view_error.html", session, 422, reason=str(e))
        back = canonical(dict(parse_qsl(fields.get("back", ""))))
        return RedirectResponse(f"/?{back}" if back else "/", status_code=303)


def routes(guard: Guard) -> list[Route]:
    views = ViewRoutes(guard)
    return [
        Route("/views", guard.action("list", views.save), methods=["POST"]),
        Route("/views/delete", guard.action("list", views.delete), methods=["POST"]),
    ]
