"""`gitward validate`: everything a pull request changes, checked before merge, offline.

Renders every app of a config tree (or one path) at a revision, validates each object
against the Kubernetes OpenAPI schema of its kind (the pinned version's snapshot plus
the CRDs the repository ships), runs the policies and the apps' projects, and reports
duplicates and render errors. No cluster is contacted. Exit 0 when clean (warnings
allowed), 1 when something is denied or invalid, 2 on an error (bad flags, Git
unreachable, a policy that does not compile).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from gitward import compose
from gitward.cli import appflags as f
from gitward.cli.output import ConsoleProgress, err_console, out_console
from gitward.errors import ConfigError, RenderError
from gitward.model import (
    AppSpec,
    DecryptionKeys,
    Destination,
    RepoCredentials,
    Resource,
    ResourceKey,
    Revision,
    SourceSpec,
)
from gitward.model.policy import PolicyKind, PolicyMode, Violation
from gitward.policy import catalog as catalogs
from gitward.policy.report import AppReport, ValidationReport, to_json, to_junit, to_sarif
from gitward.policy.schema import SchemaValidator
from gitward.policy.set import PolicyChecker, with_namespaces
from gitward.ports import GitSource, Renderer
from gitward.reconcile.config import ConfigLocation, ConfigSource
from gitward.reconcile.source import render_revision


class ValidateFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    sarif = "sarif"


PolicyPaths = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy",
        help="A .rego file, a ValidatingAdmissionPolicy/AppProject YAML, or a folder of them "
        "(repeatable).",
    ),
]


def validate(
    repo: Annotated[str, typer.Option("--repo", help="Repository URL or local path.")],
    revision: f.RevisionOpt = None,
    path: Annotated[
        str | None, typer.Option("--path", help="Validate the one app at this path.")
    ] = None,
    config_path: Annotated[
        str | None,
        typer.Option("--config-path", help="Validate every app declared in this folder."),
    ] = None,
    policy: PolicyPaths = None,
    repo_url: Annotated[
        str | None,
        typer.Option(
            "--repo-url",
            help="How Applications name this repository, when not as --repo (e.g. its "
            "https URL when --repo is a local checkout); those apps render at --revision.",
        ),
    ] = None,
    dest_namespace: f.DestNamespace = None,
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: f.DecryptionKeyFile = None,
    output: Annotated[
        ValidateFormat, typer.Option("-o", "--output", help="table, json, junit or sarif.")
    ] = ValidateFormat.table,
) -> None:
    """Render, schema-check and policy-check apps offline. Exit 0 clean, 1 denied, 2 error."""
    if (path is None) == (config_path is None):
        raise ConfigError("give exactly one of --path APP_PATH or --config-path DIR")
    settings = f.settings(
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    progress = ConsoleProgress()
    git = compose.git_source(settings)
    checker = compose.policy_checker(policy or [], progress)
    try:
        checker.warm()
        run = ConfigRun(
            git, compose.renderer(progress), checker, settings.credentials, settings.keys
        )
        report = asyncio.run(
            run.all(repo, revision or "HEAD", path, config_path, repo_url, dest_namespace)
        )
    finally:
        checker.close()
    _emit(report, output)
    raise typer.Exit(1 if report.failed else 0)


@dataclasses.dataclass(frozen=True)
class RenderedTree:
    """A config tree at one commit: each app with its objects, or its render error."""

    repo: str
    sha: str
    apps: tuple[tuple[AppSpec, list[Resource], str | None], ...]


class ConfigRun:
    """Loads a config tree's apps at a revision and renders them; shared with preview."""

    def __init__(
        self,
        git: GitSource,
        renderer: Renderer,
        checker: PolicyChecker,
        credentials: RepoCredentials | None,
        keys: DecryptionKeys | None = None,
    ) -> None:
        self.git = git
        self.renderer = renderer
        self.checker = checker
        self.credentials = credentials
        self.keys = keys or DecryptionKeys()  # SOPS files are decrypted in memory only
        self.catalog = catalogs.builtin()

    async def all(
        self,
        repo: str,
        revision: str,
        path: str | None,
        config_path: str | None,
        repo_url: str | None,
        namespace: str | None,
    ) -> ValidationReport:
        rendered = await self.rendered(repo, revision, path, config_path, repo_url, namespace)
        return self.report(rendered)

    async def rendered(
        self,
        repo: str,
        revision: str,
        path: str | None,
        config_path: str | None,
        repo_url: str | None,
        namespace: str | None,
    ) -> RenderedTree:
        """Every app of the tree at ``revision``, rendered (``gitward preview`` reuses this)."""
        if "://" not in repo and Path(repo).exists():
            repo = str(Path(repo).resolve())
        resolved = await asyncio.to_thread(self.git.resolve, repo, revision, self.credentials)
        apps = await self._apps(repo, resolved, path, config_path, namespace)
        same = {_normal(repo), *([_normal(repo_url)] if repo_url else [])}
        pinned = [_pinned(app, same, repo, resolved.sha) for app in apps]
        rendered = []
        for app in pinned:
            raw, error = await self._render(app)
            namespace = app.destination.namespace or "default"
            objects = with_namespaces(raw, self.catalog.with_crds(raw), namespace)
            rendered.append((app, objects, error))
        return RenderedTree(repo, resolved.sha, tuple(rendered))

    def report(self, tree: RenderedTree) -> ValidationReport:
        """Schemas, duplicates, policies and projects over a rendered tree."""
        rendered = tree.apps
        crds = [r for _, objects, _ in rendered for r in objects]
        schema = SchemaValidator(self.catalog.with_crds(crds))
        duplicates = _duplicates([(app, objects) for app, objects, _ in rendered])
        reports = []
        for app, objects, error in rendered:
            found: list[Violation] = [*duplicates.get(app.name, [])]
            if error is None:
                found += schema.validate(objects)
                found += self.checker.check(app, objects).violations
            reports.append(
                AppReport(
                    app.name,
                    app.source.path,
                    len(objects),
                    tuple(sorted(found, key=_order)),
                    error,
                )
            )
        return ValidationReport(tree.repo, tree.sha, tuple(reports))

    async def _apps(
        self,
        repo: str,
        revision: Revision,
        path: str | None,
        config_path: str | None,
        namespace: str | None,
    ) -> list[AppSpec]:
        if path is not None:
            name = f._name_from(path)
            return [AppSpec(name, SourceSpec(repo, path), Destination(namespace=namespace))]
        location = ConfigLocation(path=config_path or ".", repo_url=repo, revision=revision.sha)
        loaded = await ConfigSource(location, self.git, self.credentials).load()
        roles = loaded.declarations.roles  # serve would keep its last good RolePolicy
        if roles is not None and roles.error:
            raise ConfigError(f"the RolePolicy would not load: {roles.error}")
        self.checker.policies = self.checker.policies.with_projects(loaded.declarations.projects)
        return sorted(loaded.declarations.apps.values(), key=lambda a: a.name)

    async def _render(self, app: AppSpec) -> tuple[list[Resource], str | None]:
        try:
            revision = await asyncio.to_thread(
                self.git.resolve, app.source.repo_url, app.source.target_revision, self.credentials
            )
            rendered = await render_revision(  # every source of a multi-source app
                self.git,
                self.renderer,
                app,
                revision,
                self.credentials,
                kube_version=self.catalog.kubernetes,
                api_versions=_api_versions(self.catalog),
                keys=self.keys,
            )
        except RenderError as e:
            return [], e.message
        return rendered, None


def _api_versions(catalog: catalogs.Catalog) -> tuple[str, ...]:
    found = set()
    for info in catalog.kinds.values():
        for version in info.schemas:
            group_version = f"{info.group}/{version}" if info.group else version
            found |= {group_version, f"{group_version}/{info.kind}"}
    return tuple(sorted(found))


def _duplicates(rendered: Sequence[tuple[AppSpec, list[Resource]]]) -> dict[str, list[Violation]]:
    """Objects two apps both render into the same cluster: a violation in each app."""
    owners: dict[tuple[str, ResourceKey], list[tuple[AppSpec, Resource]]] = {}
    for app, objects in rendered:
        cluster = app.destination.name or app.destination.server or "in-cluster"
        for resource in objects:
            owners.setdefault((cluster, resource.key), []).append((app, resource))
    found: dict[str, list[Violation]] = {}
    for (_, key), claims in owners.items():
        names = sorted({app.name for app, _ in claims})
        if len(names) < 2:
            continue
        for app, resource in claims:
            others = ", ".join(n for n in names if n != app.name)
            message = f"{key} is also rendered by app(s) {others}: one object, one owner"
            found.setdefault(app.name, []).append(
                Violation(
                    resource.key,
                    "duplicates",
                    "one owner per object",
                    message,
                    PolicyMode.DENY,
                    PolicyKind.SCHEMA,
                    resource.source,
                )
            )
    return found


def _normal(url: str) -> str:
    text = url.strip().rstrip("/").lower().removesuffix(".git")
    local = Path(url)
    return str(local.resolve()) if "://" not in url and local.exists() else text


def _pinned(app: AppSpec, same: set[str], repo: str, sha: str) -> AppSpec:
    """``app`` with each of its sources in the repository under test pinned to ``sha``."""

    def pin(source: SourceSpec) -> SourceSpec:
        if _normal(source.repo_url) not in same:
            return source
        return dataclasses.replace(source, repo_url=repo, target_revision=sha)

    return dataclasses.replace(
        app, source=pin(app.source), sources=tuple(pin(s) for s in app.sources)
    )


def _order(v: Violation) -> tuple[int, str, str, str]:
    return (0 if v.mode is PolicyMode.DENY else 1, v.subject, v.policy, v.message)


def _emit(report: ValidationReport, output: ValidateFormat) -> None:
    if output is ValidateFormat.json:
        sys.stdout.write(orjson.dumps(to_json(report), option=orjson.OPT_INDENT_2).decode() + "\n")
    elif output is ValidateFormat.sarif:
        sys.stdout.write(orjson.dumps(to_sarif(report), option=orjson.OPT_INDENT_2).decode() + "\n")
    elif output is ValidateFormat.junit:
        sys.stdout.write(to_junit(report) + "\n")
    else:
        _table(report)


def _table(report: ValidationReport) -> None:
    table = Table("APP", "OBJECT", "MODE", "POLICY", "RULE", "MESSAGE", box=None)
    for app in report.apps:
        if app.error is not None:
            table.add_row(app.app, "(render)", "[red]error[/red]", "", "", escape(app.error))
        for v in app.violations:
            mode = "[red]deny[/red]" if v.mode is PolicyMode.DENY else "[yellow]warn[/yellow]"
            table.add_row(
                app.app,
                escape(v.subject),
                mode,
                escape(v.policy),
                escape(v.rule),
                escape(v.message),
            )
    if table.row_count:
        out_console.print(table)
    counts: Mapping[str, int] = report.counts()
    verdict = "[red]failed[/red]" if report.failed else "[green]passed[/green]"
    err_console.print(
        f"{verdict}: {counts['apps']} app(s), {counts['objects']} object(s) at "
        f"{report.revision[:12]}; {counts['denied']} denied, {counts['warnings']} warning(s), "
        f"{counts['renderErrors']} render error(s)"
    )
