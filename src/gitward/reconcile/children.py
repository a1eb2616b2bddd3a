"""App-of-apps: ``Application`` documents an app renders become apps gitward manages.

Argo CD's app-of-apps pattern has a parent app whose source renders ``Application``
objects; Argo CD's controller then manages them. gitward does not apply those objects
(no Argo CD CRD is needed in the cluster): :class:`AppOfApps` wraps the renderer, takes
the ``Application`` documents (Argo CD's ``argoproj.io/v1alpha1`` or gitward's
``gitward.dev/v1alpha1``) out of every render, parses them like declared ones, and keeps
them as the parent's children, each with ``owner = "Application/<parent>"``. The parent
keeps the rest of its objects.

``serve`` asks :meth:`AppOfApps.children` for the children of the apps it has (one call
in its reload) and is called back when a render changed a parent's children: new
children are then reconciled, and a child the parent no longer renders is removed and
pruned per its own policy, as a declaration removed from Git is. A render that fails
changes nothing: the children of the last good render stay.

Mistakes are render errors on the parent, so nothing of that render is applied: a child
that does not parse, a child with the name of another app (naming both). A parent may
render ``ApplicationSet`` documents too: they join the declared sets
(:meth:`AppOfApps.with_sets`) and generate their apps the same way; a set another parent
renders too, or one that generates (through any chain of sets and parents) the app
rendering it, fails that render, naming the other parent or the chain.

Before: the render stage (:class:`~gitward.ports.Renderer`). After: ``serve.reload``
and the controller's ``set_apps``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gitward.appsets.model import AppSetSpec
from gitward.appsets.parse import parse_appset
from gitward.errors import ConfigError, GitwardError, RenderError
from gitward.model import AppSpec, Resource
from gitward.ports import Renderer, RenderRequest
from gitward.spec import parse_application
from gitward.spec.declarations import Declarations

log = logging.getLogger("gitward.children")
APPLICATION_GROUPS = frozenset({"argoproj.io", "gitward.dev"})
MAX_DEPTH = 5  # parents of parents: an app-of-apps tree deeper than this is cut off


def owner_of(parent: str) -> str:
    return f"Application/{parent}"


def _is(resource: Resource, kind: str) -> bool:
    return resource.key.group in APPLICATION_GROUPS and resource.key.kind == kind


class AppOfApps:
    """The children each parent app rendered last, and the renderer that finds them.

    ``known`` gives the apps serve has now (declared ones and generated ones), to refuse
    a child named like one of them; ``reload`` (serve's) runs on ``loop`` when a render
    changed the children of a parent, again if they changed while it ran.
    """

    def __init__(
        self,
        known: Callable[[], Mapping[str, AppSpec]],
        reload: Callable[[], Awaitable[None]],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._known = known
        self._reload = reload
        self._loop = loop
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._dirty = False
        self._closed = False
        # parent -> source index key -> child name -> spec (and the same for sets)
        self._rendered: dict[str, dict[object, dict[str, AppSpec]]] = {}
        self._sets: dict[str, dict[object, dict[str, AppSetSpec]]] = {}

    def renderer(self, inner: Renderer) -> Renderer:
        """``inner``, with the children taken out of every render and remembered."""
        return _ChildrenRenderer(inner, self)

    def children(self, apps: Mapping[str, AppSpec]) -> dict[str, AppSpec]:
        """The children of the parents among ``apps``, and theirs, to :data:`MAX_DEPTH`.

        A child named like an app of ``apps`` is left out (its parent's render fails
        with the reason, see :meth:`take`)."""
        found: dict[str, AppSpec] = {}
        parents = set(apps)
        for _ in range(MAX_DEPTH):
            new = {
                name: spec
                for parent in sorted(parents)
                for name, spec in self._of(parent).items()
                if name not in apps and name not in found
            }
            if not new:
                break
            found |= new
            parents = set(new)
        return found

    def _of(self, parent: str) -> dict[str, AppSpec]:
        with self._lock:
            by_source = self._rendered.get(parent, {})
            return {name: spec for part in by_source.values() for name, spec in part.items()}

    def take(self, request: RenderRequest, resources: list[Resource]) -> list[Resource]:
        """The objects of a render without its ``Application`` and ``ApplicationSet``
        documents, which are remembered as ``request.app_name``'s children and sets; a
        mistake fails the render."""
        sets = {spec.name: spec for spec in (self._parse_set(request, r) for r in resources
                                              if _is(r, "ApplicationSet"))}  # fmt: skip
        documents = [r for r in resources if _is(r, "Application")]
        children = {spec.name: spec for spec in (self._parse(request, r) for r in documents)}
        self._check_names(request.app_name, children)
        key = (request.source.repo_url, request.source.path, request.source.target_revision)
        self._check_sets(request.app_name, key, sets)
        with self._lock:
            changed = _remember(self._rendered, request.app_name, key, children)
            changed |= _remember(self._sets, request.app_name, key, sets)
        if changed:
            self._loop.call_soon_threadsafe(self._changed)
        return [r for r in resources if not (_is(r, "Application") or _is(r, "ApplicationSet"))]

    def is_parent(self, app: str) -> bool:
        """True if ``app``'s last render held child Applications or ApplicationSets."""
        with self._lock:
            return bool(self._rendered.get(app) or self._sets.get(app))

    def with_sets(self, declarations: Declarations) -> Declarations:
        """``declarations`` plus the ApplicationSets its apps' renders hold.

        Their apps are generated like those of declared sets (owned by the set, pruned
        when an element goes); a parent that stops rendering a set removes them all. A
        rendered set named like a declared one is left out and logged: the declared one
        wins, as it does for Applications.
        """
        parents = set(declarations.apps) | set(self._known())
        with self._lock:
            rendered = {
                name: spec
                for parent in sorted(parents)
                for part in self._sets.get(parent, {}).values()
                for name, spec in part.items()
            }
        for name in rendered.keys() & declarations.appsets.keys():
            log.error(
                "a rendered ApplicationSet %r is also declared: the declared one is used", name
            )
        extra = {k: v for k, v in rendered.items() if k not in declarations.appsets}
        if not extra:
            return declarations
        return dataclasses.replace(declarations, appsets=declarations.appsets | extra)

    def _changed(self) -> None:
        """On the loop: reload, unless a reload started here is running (it goes again)."""
        self._dirty = True
        if self._closed:
            return
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._reload_until_clean())

    async def _reload_until_clean(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self._reload()
            except GitwardError as e:
                log.error("adopting app-of-apps children failed: %s", e)  # noqa: TRY400

    def close(self) -> list[asyncio.Task[None]]:
        """No more reloads; the one running, if any, for the caller to cancel."""
        self._closed = True
        return [self._task] if self._task is not None and not self._task.done() else []

    def _parse(self, request: RenderRequest, document: Resource) -> AppSpec:
        where = str(document.source) if document.source else request.app_name
        try:
            spec = parse_application(dict(document.body), origin=where)
        except ConfigError as e:
            raise RenderError(
                f"renders an Application that gitward cannot read: {e}",
                location=request.app_name,
                hint="fix the Application in the parent's source",
            ) from e
        return dataclasses.replace(spec, owner=owner_of(request.app_name))

    def _parse_set(self, request: RenderRequest, document: Resource) -> AppSetSpec:
        where = str(document.source) if document.source else request.app_name
        try:
            return parse_appset(dict(document.body), origin=where)
        except ConfigError as e:
            raise RenderError(
                f"renders an ApplicationSet that gitward cannot read: {e}",
                location=request.app_name,
                hint="fix the ApplicationSet in the parent's source",
            ) from e

    def _check_names(self, parent: str, children: Mapping[str, AppSpec]) -> None:
        """A child may not take the name of the parent, of an app declared or generated
        elsewhere, or of a child of another parent."""
        known = self._known()
        mine = owner_of(parent)
        for name in children:
            other = known.get(name)
            if name == parent or (other is not None and other.owner != mine):
                what = "the parent itself" if name == parent else _described(name, other)
                raise RenderError(
                    f"renders the Application {name!r}, but that name is taken by {what}",
                    location=parent,
                    hint="rename the child Application in the parent's source",
                )

    def _check_sets(self, parent: str, key: object, sets: Mapping[str, AppSetSpec]) -> None:
        """A rendered ApplicationSet may not take the name of a set another parent (or
        source) renders: which one won was arbitrary. Nor may it generate, directly or
        through the apps it generates, the app that renders it: that cycle would keep
        itself alive once the parent that started it is gone."""
        known = self._known()  # a parent gone from the apps renders nothing any more
        with self._lock:
            others = {
                name: who
                for who, by_source in self._sets.items()
                if who in known
                for at, part in by_source.items()
                if (who, at) != (parent, key)
                for name in part
            }
        lineage = self._lineage(parent)
        for name in sets:
            if name in others:
                raise RenderError(
                    f"renders the ApplicationSet {name!r}, which the app {others[name]!r} "
                    "renders too",
                    location=parent,
                    hint="rename one of the two ApplicationSets",
                )
            if f"ApplicationSet/{name}" in lineage:
                path = " <- ".join(
                    [parent, *lineage[: lineage.index(f"ApplicationSet/{name}") + 1]]
                )
                raise RenderError(
                    f"renders the ApplicationSet {name!r}, which generates this app ({path}): "
                    "a cycle that would keep both alive for ever",
                    location=parent,
                    hint="render the ApplicationSet from an app it does not generate",
                )

    def _lineage(self, app: str) -> list[str]:
        """Who made ``app``, then who made that, up to a declared one: owners
        (``ApplicationSet/<set>``, ``Application/<parent>``) and the parents rendering a set."""
        known, found, current = self._known(), [], app
        for _ in range(4 * MAX_DEPTH):
            spec = known.get(current)
            if spec is None or spec.owner is None or spec.owner in found:
                break
            found.append(spec.owner)
            kind, _, name = spec.owner.partition("/")
            if kind == "Application":
                current = name
                continue
            with self._lock:
                renderers = sorted(
                    p
                    for p, by in self._sets.items()
                    if p in known and any(name in part for part in by.values())
                )
            if not renderers:
                break  # a declared set
            found.append(renderers[0])
            current = renderers[0]
        return found


def _remember(
    table: dict[str, dict[object, dict[str, Any]]], parent: str, key: object, found: dict[str, Any]
) -> bool:
    """Keep what one source of ``parent`` rendered; True when it changed."""
    by_source = table.setdefault(parent, {})
    before = by_source.get(key, {})
    if found:
        by_source[key] = found
    else:
        by_source.pop(key, None)
    return before != found


def _described(name: str, spec: AppSpec | None) -> str:
    if spec is None or spec.owner is None:
        return f"the declared app {name!r}"
    return f"the app {name!r} owned by {spec.owner}"


class _ChildrenRenderer:
    """A :class:`~gitward.ports.Renderer` that hands ``Application`` documents to
    :class:`AppOfApps` instead of returning them as objects to apply."""

    def __init__(self, inner: Renderer, children: AppOfApps) -> None:
        self._inner = inner
        self._children = children

    def render(self, request: RenderRequest) -> list[Resource]:
        return self._children.take(request, self._inner.render(request))
