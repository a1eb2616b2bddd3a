"""`gitward bootstrap`: install gitward into the current cluster, managed from Git.

Flux's ``bootstrap`` idea, done with gitward's own pieces: the chart is rendered for the
given repository, committed into it next to an Application for itself, and that
Application is synced like any other. From then on the gitward running in the cluster
manages its own upgrades from Git. Every step is idempotent, so running it again
changes nothing (no commit, no write).

Layout in the config repository, for ``--path clusters/NAME``::

    clusters/NAME/apps/gitward.yaml            the Application (gitward reads apps/)
    clusters/NAME/gitward-system/gitward.yaml  the install manifests it syncs
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Annotated

import typer
import yaml

from gitward import compose
from gitward.cli import appflags as f
from gitward.cli.output import ConsoleProgress, err_console
from gitward.cli.report import SyncReporter, sync_table
from gitward.install.manifests import NAMESPACE, InstallOptions, render
from gitward.install.repository import commit_files, safe_path
from gitward.install.secret import NAME as SECRET
from gitward.install.secret import ensure_secret
from gitward.model import AppSpec
from gitward.reconcile.pipeline import SyncOptions, SyncResult
from gitward.spec.application import parse_application


def bootstrap(
    repo: Annotated[
        str, typer.Option(help="The config repository's Git URL (gitward pushes to it).")
    ],
    path: Annotated[
        str, typer.Option(help="This cluster's folder in the repository, e.g. clusters/prod.")
    ],
    branch: Annotated[
        str | None, typer.Option(help="Branch to commit to \\[default: the repository's].")
    ] = None,
    write_namespace: Annotated[
        list[str] | None,
        typer.Option(
            help="Restrict writes to this namespace (repeatable) \\[default: every namespace]."
        ),
    ] = None,
    image: Annotated[str | None, typer.Option(help="gitward's image, repository:tag.")] = None,
    namespace: Annotated[str, typer.Option(help="Namespace gitward runs in.")] = NAMESPACE,
    kubeconfig: f.Kubeconfig = None,
    context: f.Context = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for gitward to be ready.")
    ] = 300.0,
) -> None:
    """Install gitward into the current cluster and commit the install to Git (idempotent)."""
    folder = safe_path(path)
    options = InstallOptions(
        config_repo=repo,
        config_path=str(folder / "apps"),
        config_revision=branch or "HEAD",
        write_namespaces=tuple(write_namespace or ()),
        image=image,
        namespace=namespace,
    )
    manifests = render(compose.tool("helm"), options)
    application = _application(repo, folder, branch, namespace)
    committed = commit_files(
        repo,
        {
            str(folder / "gitward-system" / "gitward.yaml"): manifests,
            str(folder / "apps" / "gitward.yaml"): application,
        },
        branch=branch,
        message=f"gitward bootstrap: install gitward in {folder}",
    )
    if committed.changed:
        err_console.print(f"committed {', '.join(committed.changed)} as {committed.sha[:12]}")
    else:
        err_console.print(f"the repository already holds this install ({committed.sha[:12]})")
    app = parse_application(yaml.safe_load(application), f"{folder}/apps/gitward.yaml")
    settings = f.settings(kubeconfig=kubeconfig, context=context)
    result = asyncio.run(_install(settings, app, namespace, timeout))
    if result.failed:
        raise typer.Exit(1)
    err_console.print(
        f"gitward runs in namespace {namespace}; its admin token is in Secret {SECRET} "
        f"(kubectl -n {namespace} get secret {SECRET} -o jsonpath='{{.data.admin-token}}' "
        "| base64 -d). Add apps under "
        f"{folder}/apps/ in the repository."
    )


def _application(repo: str, folder: PurePosixPath, branch: str | None, namespace: str) -> str:
    """gitward's own Application: the install manifests, kept in sync and self-healed."""
    document = {
        "apiVersion": "gitward.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "gitward"},
        "spec": {
            "source": {
                "repoURL": repo,
                "path": str(folder / "gitward-system"),
                "targetRevision": branch or "HEAD",
            },
            "destination": {"namespace": namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }
    header = "# gitward's own install, written by `gitward bootstrap`; upgrades go through Git.\n"
    return header + yaml.safe_dump(document, sort_keys=False)


async def _install(
    settings: compose.Settings, app: AppSpec, namespace: str, timeout: float
) -> SyncResult:
    async with compose.kube_client(settings) as cluster:
        created = await ensure_secret(cluster, namespace)
        state = "created (webhook secret, admin token)" if created else "exists: kept"
        err_console.print(f"Secret {namespace}/{SECRET} {state}")
        engine = compose.engine(settings, cluster, ConsoleProgress())
        result = await engine.sync(app, SyncOptions(wait=True, timeout=timeout), SyncReporter())
    sync_table(app, result, dry_run=False)
    return result
