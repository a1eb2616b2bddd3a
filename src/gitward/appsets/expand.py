"""Turn the declared ApplicationSets into Applications, for ``gitward serve``.

The stage after parsing (:mod:`gitward.appsets.parse`) and before the controller
(:meth:`Controller.set_apps`): ``serve.reload`` adds the apps :meth:`AppSets.generate`
returns to the declared ones. Each generated app carries ``owner =
"ApplicationSet/<name>"``; when a set stops producing an app the controller removes it
and prunes its objects per its policy, unless the set says
``preserveResourcesOnDeletion`` (:meth:`AppSets.preserves`).

A set that fails (a missing Git path, an unknown template key, two elements making the
same app) is reported on that set (:meth:`AppSets.warnings`, shown by ``/readyz``) and
keeps the apps it generated last: a typo in Git must never delete running apps, nor
stop another set or ``serve``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import yaml

from gitward.appsets.funcs import TemplateError
from gitward.appsets.generators import Context, generate, template_data, walk
from gitward.appsets.model import AppSetSpec, ClustersGenerator, GitGenerator
from gitward.appsets.templates import merge_template, render_tree
from gitward.errors import ConfigError, GitwardError
from gitward.model import AppSpec, RepoCredentials
from gitward.ports import GitSource
from gitward.spec.application import parse_application
from gitward.spec.clusters import ClusterSpec
from gitward.spec.declarations import Declarations

log = logging.getLogger("gitward.appsets")


def expand(appset: AppSetSpec, ctx: Context) -> dict[str, AppSpec]:
    """The apps one set generates; a ConfigError names the generator and element."""
    apps: dict[str, AppSpec] = {}
    sources: dict[str, str] = {}
    for generator in appset.generators:
        template = appset.template
        if generator.template is not None:
            template = merge_template(template, generator.template)
        for params in generate(generator, ctx):
            where = f"{generator.where} ({params.source})"
            try:
                rendered = render_tree(template, template_data(params.values, go=ctx.go), go=ctx.go)
            except TemplateError as e:
                raise ConfigError(f"{where}: {e.message}") from e
            if not isinstance(rendered, Mapping):
                raise ConfigError(f"{where}: the template must render to a mapping")
            doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **rendered}
            app = parse_application(doc, f"{appset.origin}: ApplicationSet {appset.name}, {where}")
            if app.name in apps:
                raise ConfigError(
                    f"application {app.name!r} is generated twice: by {sources[app.name]} "
                    f"and by {where}",
                    hint="make the template's metadata.name differ per element",
                )
            apps[app.name] = dataclasses.replace(app, owner=appset.owner)
            sources[app.name] = where
    return apps


class AppSets:
    """The generated apps across reloads: last good output per set, errors, preserve."""

    def __init__(self, git: GitSource, credentials: RepoCredentials | None = None) -> None:
        self.git = git
        self.credentials = credentials
        self._last: dict[str, dict[str, AppSpec]] = {}
        self._errors: dict[str, str] = {}
        self._unmatched: list[str] = []  # clusters generators that select no cluster
        self._preserving: set[str] = set()  # owners whose apps keep their objects
        self._repos: frozenset[str] = frozenset()

    async def generate(self, declarations: Declarations) -> dict[str, AppSpec]:
        """Every app the declared sets generate (Git is read in a worker thread)."""
        return await asyncio.to_thread(self._generate, declarations)

    def warnings(self) -> list[str]:
        return [*(self._errors[name] for name in sorted(self._errors)), *self._unmatched]

    def preserves(self, spec: AppSpec) -> bool:
        """True if ``spec``'s objects must stay when the app is removed."""
        return spec.owner is not None and spec.owner in self._preserving

    def reads(
        self,
        repo_urls: Iterable[str],
        normalize: Callable[[str], str],
        also: Iterable[str | None] = (),
    ) -> bool:
        """True if a push to one of ``repo_urls`` (normalized) can change what the sets
        generate, or touches one of ``also`` (the config repository)."""
        watched = {normalize(u) for u in (*self._repos, *also) if u}
        return bool(watched & set(repo_urls))

    def _generate(self, declarations: Declarations) -> dict[str, AppSpec]:
        ctx_for = _contexts(declarations.clusters, self._tree())
        taken = {name: f"Application {name!r}" for name in declarations.apps}
        result: dict[str, AppSpec] = {}
        self._errors = {}
        self._unmatched = []
        for name in sorted(declarations.appsets):
            appset = declarations.appsets[name]
            self._unmatched += _unmatched(appset, declarations.clusters)
            try:
                apps = expand(appset, ctx_for(appset.go_template))
                _check(apps, taken)
                self._last[name] = apps
            except GitwardError as e:
                self._errors[name] = f"ApplicationSet {name} ({appset.origin}): {e}"
                log.error("%s", self._errors[name])  # noqa: TRY400 - reported, no traceback
                apps = {k: v for k, v in self._last.get(name, {}).items() if k not in taken}
            result.update(apps)
            taken.update(dict.fromkeys(apps, f"ApplicationSet {name!r}"))
            (self._preserving.add if appset.preserve_resources else self._preserving.discard)(
                appset.owner
            )
        self._last = {k: v for k, v in self._last.items() if k in declarations.appsets}
        self._repos = frozenset(
            g.spec.repo_url
            for a in declarations.appsets.values()
            for g in walk(a.generators)
            if isinstance(g.spec, GitGenerator)
        )
        return result

    def _tree(self) -> Callable[[str, str], Path]:
        """A checkout per (repo, revision), resolved once per generation run."""
        cache: dict[tuple[str, str], Path] = {}

        def tree(repo_url: str, revision: str) -> Path:
            if (repo_url, revision) not in cache:
                resolved = self.git.resolve(repo_url, revision, self.credentials)
                cache[repo_url, revision] = self.git.checkout(resolved, self.credentials)
            return cache[repo_url, revision]

        return tree


def _contexts(
    clusters: Mapping[str, ClusterSpec], tree: Callable[[str, str], Path]
) -> Callable[[bool], Context]:
    servers: dict[str, str] = {}

    def server(cluster: ClusterSpec) -> str:
        if cluster.name not in servers:
            servers[cluster.name] = _server_url(cluster)
        return servers[cluster.name]

    return lambda go: Context(clusters, tree, go, server)


def _check(apps: Mapping[str, AppSpec], taken: Mapping[str, str]) -> None:
    """A generated name another app already holds fails the set. An undeclared
    destination cluster does not: it is an error on that app (gitward.connections)."""
    for name in apps:
        if name in taken:
            raise ConfigError(
                f"generates application {name!r}, which {taken[name]} already declares",
                hint="rename one of them",
            )


def _unmatched(appset: AppSetSpec, clusters: Mapping[str, ClusterSpec]) -> list[str]:
    """A clusters generator whose selector matches no declared cluster generates nothing:
    said on the set (a typo in a label must not look like an empty fleet)."""
    found = []
    for generator in walk(appset.generators):
        spec = generator.spec
        if not isinstance(spec, ClustersGenerator) or spec.selector.empty:
            continue  # an empty selector always has Argo CD's in-cluster
        if not any(spec.selector.matches(dict(c.labels)) for c in clusters.values()):
            found.append(
                f"ApplicationSet {appset.name} ({appset.origin}): {generator.where}: clusters "
                f"selector {spec.selector} matches no cluster, so it generates no application"
            )
            log.warning("%s", found[-1])
    return found


def _server_url(cluster: ClusterSpec) -> str:
    """The API server URL of a cluster's kubeconfig context, for the ``server`` value.

    Only the URL is read; nothing else of the kubeconfig (credentials) leaves here."""
    if cluster.in_cluster:
        return "https://kubernetes.default.svc"
    if cluster.server:  # an Argo CD cluster Secret
        return cluster.server
    if not cluster.kubeconfig:
        return ""
    try:
        config = yaml.safe_load(Path(cluster.kubeconfig).read_text(encoding="utf-8"))
        context_name = cluster.context or config.get("current-context")
        context = next(c["context"] for c in config["contexts"] if c["name"] == context_name)
        entry = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        return str(entry["server"])
    except (OSError, yaml.YAMLError, KeyError, StopIteration, TypeError, AttributeError):
        return ""
