"""`gitward preview`: what a pull request changes, per app and object, for a PR comment.

Renders every app of the config tree (or one path) at the base and at the head commit
with the same code as ``gitward validate``, keeps the apps whose output differs, diffs
them object by object with secrets masked, and adds head's policy verdict. Without
cluster credentials it compares the two renders; with ``--live`` (or ``--kubeconfig`` /
``--context``) the changed apps' head is compared with the live cluster through the
engine's server-side dry-run plan: what will really change on merge.

Exit 0 when every changed app passes policy (with or without changes), 1 when a changed
app is denied by policy or does not render at head, 2 on an error.
"""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from typing import Annotated

import orjson
import typer

from gitward import compose
from gitward.cli import appflags as f
from gitward.cli.output import ConsoleProgress, err_console
from gitward.cli.validate import ConfigRun, PolicyPaths, RenderedTree
from gitward.model import AppSpec, Resource
from gitward.model.policy import Violation
from gitward.policy.report import ValidationReport
from gitward.preview import AppPreview, Preview, compare_renders, diff_from_plan
from gitward.preview.compare import cluster_of
from gitward.preview.output import MAX_CHARS, summary_line, to_json, to_markdown
from gitward.reconcile.pipeline import SyncOptions


class PreviewFormat(StrEnum):
    markdown = "markdown"
    json = "json"


_Entry = tuple[AppSpec, list[Resource], str | None]


def preview(
    repo: Annotated[str, typer.Option("--repo", help="Repository URL or local path.")],
    base: Annotated[str, typer.Option("--base", help="The base revision (the target branch).")],
    head: Annotated[str, typer.Option("--head", help="The head revision (the proposed change).")],
    path: Annotated[
        str | None, typer.Option("--path", help="Preview the one app at this path.")
    ] = None,
    config_path: Annotated[
        str | None,
        typer.Option("--config-path", help="Preview every app declared in this folder."),
    ] = None,
    policy: PolicyPaths = None,
    repo_url: Annotated[
        str | None,
        typer.Option(
            "--repo-url", help="How Applications name this repository, when not as --repo."
        ),
    ] = None,
    dest_namespace: f.DestNamespace = None,
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Compare head with the live cluster (current context) by dry-run."
        ),
    ] = False,
    kubeconfig: f.Kubeconfig = None,
    context: f.Context = None,
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: f.DecryptionKeyFile = None,
    max_chars: Annotated[
        int, typer.Option("--max-chars", help="Size limit of the Markdown; diffs are cut.")
    ] = MAX_CHARS,
    output: Annotated[
        PreviewFormat, typer.Option("-o", "--output", help="markdown or json.")
    ] = PreviewFormat.markdown,
) -> None:
    """Diff every app between two commits (or head against live). Exit 0, 1 denied, 2 error."""
    if path is not None and config_path is not None:
        raise typer.BadParameter("give at most one of --path and --config-path")
    settings = f.settings(
        kubeconfig=kubeconfig,
        context=context,
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    progress = ConsoleProgress()
    checker = compose.policy_checker(policy or [], progress)
    try:
        checker.warm()
        run = ConfigRun(
            compose.git_source(settings),
            compose.renderer(progress),
            checker,
            settings.credentials,
            settings.keys,
        )

        async def trees() -> tuple[RenderedTree, RenderedTree]:
            tree = None if path is not None else config_path or "."
            where = (path, tree, repo_url, dest_namespace)
            return await run.rendered(repo, base, *where), await run.rendered(repo, head, *where)

        base_tree, head_tree = asyncio.run(trees())
        verdict = run.report(head_tree)  # projects are head's: head was loaded last
    finally:
        checker.close()
    result = compare(base_tree, head_tree, verdict)
    if live or kubeconfig or context:
        result = asyncio.run(_against_live(result, head_tree, settings, progress))
    if output is PreviewFormat.json:
        sys.stdout.write(orjson.dumps(to_json(result), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(to_markdown(result, max_chars))
    err_console.print(summary_line(result).replace("**", ""))
    raise typer.Exit(1 if result.failed else 0)


def compare(base: RenderedTree, head: RenderedTree, verdict: ValidationReport) -> Preview:
    """The apps whose rendered output differs between the two trees."""
    before = {app.name: (app, objects, error) for app, objects, error in base.apps}
    after = {app.name: (app, objects, error) for app, objects, error in head.apps}
    violations = {a.app: a.violations for a in verdict.apps}
    changed = []
    for name in sorted(before.keys() | after.keys()):
        found = _app(before.get(name), after.get(name), violations.get(name, ()))
        if found is not None:
            changed.append(found)
    unchanged = len(before.keys() | after.keys()) - len(changed)
    return Preview(head.repo, base.sha, head.sha, "render", tuple(changed), unchanged)


def _app(
    base: _Entry | None, head: _Entry | None, violations: tuple[Violation, ...]
) -> AppPreview | None:
    either = head or base
    if either is None:  # cannot happen: the name came from one of the trees
        return None
    app = either[0]
    error = head[2] if head is not None else None
    objects = compare_renders(
        app, base[1] if base is not None else None, head[1] if head is not None else None
    )
    if not objects and error is None:
        return None
    status = "added" if base is None else "removed" if head is None else "changed"
    namespace = app.destination.namespace or "default"
    return AppPreview(app.name, cluster_of(app), namespace, objects, violations, error, status)


async def _against_live(
    result: Preview, head: RenderedTree, settings: compose.Settings, progress: ConsoleProgress
) -> Preview:
    """Replace each changed app's diff by the engine's plan of head against live."""
    apps = {app.name: app for app, _, _ in head.apps}
    updated = []
    async with compose.kube_client(settings) as cluster:
        engine = compose.engine(settings, cluster, progress)
        for found in result.apps:
            app = apps.get(found.app)
            if app is None or found.error is not None:
                updated.append(found)  # removed from Git, or head does not render
                continue
            options = SyncOptions(dry_run=True, full_compare=True)
            planned = await engine.look(app, options)
            objects = diff_from_plan(planned.plan.steps, planned.predicted, app.ignore_differences)
            errors = "; ".join(f"{k}: {e.detail}" for k, e in sorted(planned.errors.items()))
            updated.append(
                AppPreview(
                    found.app,
                    found.cluster,
                    found.namespace,
                    objects,
                    found.violations,
                    errors or None,
                    found.status,
                )
            )
    return Preview(result.repo, result.base, result.head, "live", tuple(updated), result.unchanged)
