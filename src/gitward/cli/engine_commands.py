"""`gitward render`, `gitward diff` and `gitward sync`: one application, from Git to cluster.

Exit codes follow ``kubectl diff``: ``diff`` exits 0 when in sync, 1 when different and
2 on error; ``sync`` exits 0 on success, 1 when an object failed, 2 on error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from typing import Annotated, Any

import orjson
import typer
import yaml

from gitward import compose
from gitward.cli import appflags as f
from gitward.cli.output import ConsoleProgress, OutputFormat, emit, err_console
from gitward.cli.policyflags import PolicyPaths, policy_stage, print_verdict
from gitward.cli.report import DiffPrinter, SyncReporter, sync_table, sync_to_data
from gitward.model import SyncOption
from gitward.ports import PolicyCheck
from gitward.reconcile.pipeline import SyncOptions, SyncResult
from gitward.reconcile.source import render_app

MASK = "**masked: gitward render --show-secrets prints it**"
Output = Annotated[OutputFormat, typer.Option("-o", "--output", help="table, json or yaml.")]


def register(app: typer.Typer) -> None:
    app.command("render")(render)
    app.command("diff")(diff)
    app.command("sync")(sync)


def render(
    file: f.AppFile = None,
    repo: f.Repo = None,
    revision: f.RevisionOpt = None,
    path: f.PathOpt = None,
    name: f.Name = None,
    renderer: f.Renderer = "auto",
    recurse: f.Recurse = False,
    include: f.Include = None,
    exclude: f.Exclude = None,
    helm_release: f.HelmRelease = None,
    values_file: f.HelmValuesFile = None,
    values: f.HelmValues = None,
    dest_namespace: f.DestNamespace = None,
    kube_version: Annotated[
        str | None,
        typer.Option(help="Kubernetes version for Helm's .Capabilities (no cluster is contacted)."),
    ] = None,
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: f.DecryptionKeyFile = None,
    output: Annotated[str, typer.Option("-o", "--output", help="yaml or json.")] = "yaml",
    show_secrets: Annotated[
        bool,
        typer.Option(help="With --decryption-key-file: print Secret values instead of masks."),
    ] = False,
) -> None:
    """Render an application's manifests at a revision, as a YAML stream (sorted)."""
    flags = f.AppFlags(
        file,
        repo,
        revision,
        path,
        name,
        renderer,
        recurse,
        include,
        exclude,
        helm_release,
        tuple(values_file or ()),
        values,
        dest_namespace,
    )
    app = f.build_app(flags)
    settings = f.settings(
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    progress = ConsoleProgress()
    rendered = asyncio.run(
        render_app(
            compose.git_source(settings),
            compose.renderer(progress),
            app,
            settings.credentials,
            kube_version=kube_version,
            keys=settings.keys,
        )
    )
    err_console.print(
        f"rendered {len(rendered.resources)} objects from "
        f"{rendered.revision.repo_url} at {rendered.revision.sha}"
    )
    bodies = [r.body for r in rendered.resources]
    if settings.keys and not show_secrets:
        bodies = [_masked(body) for body in bodies]
    if output == "json":
        sys.stdout.write(orjson.dumps(bodies, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(yaml.dump_all(bodies, Dumper=yaml.CSafeDumper, sort_keys=False))


def _masked(body: dict[str, Any]) -> dict[str, Any]:
    """A Secret with its values masked (they may have been decrypted), as Flux's build does."""
    if body.get("kind") != "Secret" or body.get("apiVersion") != "v1":
        return body
    masked = dict(body)
    for field in ("data", "stringData"):
        if isinstance(body.get(field), dict):
            masked[field] = dict.fromkeys(body[field], MASK)
    return masked


def diff(
    file: f.AppFile = None,
    repo: f.Repo = None,
    revision: f.RevisionOpt = None,
    path: f.PathOpt = None,
    name: f.Name = None,
    renderer: f.Renderer = "auto",
    recurse: f.Recurse = False,
    include: f.Include = None,
    exclude: f.Exclude = None,
    helm_release: f.HelmRelease = None,
    values_file: f.HelmValuesFile = None,
    values: f.HelmValues = None,
    dest_namespace: f.DestNamespace = None,
    kubeconfig: f.Kubeconfig = None,
    context: f.Context = None,
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: f.DecryptionKeyFile = None,
    policy: PolicyPaths = None,
    prune: Annotated[
        bool | None,
        typer.Option("--prune/--no-prune", help="Show prunes \\[default: the app's policy]."),
    ] = None,
) -> None:
    """Show what a sync would change, per object, secrets masked. Exit 0 in sync, 1 if not."""
    flags = f.AppFlags(
        file,
        repo,
        revision,
        path,
        name,
        renderer,
        recurse,
        include,
        exclude,
        helm_release,
        tuple(values_file or ()),
        values,
        dest_namespace,
    )
    app = f.build_app(flags)
    settings = f.settings(
        kubeconfig=kubeconfig,
        context=context,
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    options = SyncOptions(prune=prune, dry_run=True, full_compare=True)

    async def run(checker: PolicyCheck | None) -> int:
        async with compose.kube_client(settings) as cluster:
            engine = compose.engine(settings, cluster, ConsoleProgress(), policy=checker)
            planned = await engine.look(app, options)
        print_verdict(planned.verdict)
        return DiffPrinter(app).print(planned)

    with policy_stage(policy) as checker:
        code = asyncio.run(run(checker))
    raise typer.Exit(code)


def sync(
    file: f.AppFile = None,
    repo: f.Repo = None,
    revision: f.RevisionOpt = None,
    path: f.PathOpt = None,
    name: f.Name = None,
    renderer: f.Renderer = "auto",
    recurse: f.Recurse = False,
    include: f.Include = None,
    exclude: f.Exclude = None,
    helm_release: f.HelmRelease = None,
    values_file: f.HelmValuesFile = None,
    values: f.HelmValues = None,
    dest_namespace: f.DestNamespace = None,
    kubeconfig: f.Kubeconfig = None,
    context: f.Context = None,
    username: f.Username = None,
    password_file: f.PasswordFile = None,
    ssh_key: f.SshKey = None,
    known_hosts: f.KnownHosts = None,
    decryption_key_file: f.DecryptionKeyFile = None,
    policy: PolicyPaths = None,
    prune: Annotated[
        bool | None,
        typer.Option(
            "--prune/--no-prune", help="Delete what Git no longer holds \\[default: app policy]."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Plan only; change nothing.")] = False,
    force_conflicts: Annotated[
        bool, typer.Option(help="Take ownership of fields another field manager owns.")
    ] = False,
    create_namespace: Annotated[
        bool, typer.Option(help="Create the destination namespace if missing.")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Delete and re-create objects whose immutable fields change.")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait for health after the last wave.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each wave.")] = 300.0,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at most.")] = 32,
    output: Output = OutputFormat.table,
) -> None:
    """Apply an application to the cluster: waves, hooks, prune, health. Exit 1 on failure."""
    flags = f.AppFlags(
        file,
        repo,
        revision,
        path,
        name,
        renderer,
        recurse,
        include,
        exclude,
        helm_release,
        tuple(values_file or ()),
        values,
        dest_namespace,
    )
    extra = tuple(
        (o.value, "true")
        for o, on in (
            (SyncOption.CREATE_NAMESPACE, create_namespace),
            (SyncOption.REPLACE, replace),
        )
        if on
    )
    app = f.build_app(flags)
    if extra:
        current = app.sync_policy
        app = dataclasses.replace(
            app, sync_policy=dataclasses.replace(current, options=current.options + extra)
        )
    settings = f.settings(
        kubeconfig=kubeconfig,
        context=context,
        username=username,
        password_file=password_file,
        ssh_key=ssh_key,
        known_hosts=known_hosts,
        decryption_key_file=decryption_key_file,
    )
    options = SyncOptions(
        prune=prune,
        dry_run=dry_run,
        force_conflicts=force_conflicts,
        wait=wait,
        timeout=timeout,
        concurrency=concurrency,
    )
    quiet = output is not OutputFormat.table

    async def run(checker: PolicyCheck | None) -> SyncResult:
        async with compose.kube_client(settings) as cluster:
            engine = compose.engine(settings, cluster, ConsoleProgress(), policy=checker)
            return await engine.sync(app, options, SyncReporter(quiet=quiet))

    with policy_stage(policy) as checker:
        result = asyncio.run(run(checker))
    print_verdict(result.verdict)
    if quiet:
        data = sync_to_data(app, result)
        data["policy"] = [v.to_data() for v in result.verdict.violations]
        emit(data, output)
    else:
        sync_table(app, result, dry_run)
    raise typer.Exit(1 if result.failed else 0)
