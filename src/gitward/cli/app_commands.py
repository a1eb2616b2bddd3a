"""`gitward app`: look at and act on the applications of a running `gitward serve`.

Every command is a thin client of the HTTP API (``/api/v1``, :mod:`~gitward.cli.api_client`);
what they print is in :mod:`~gitward.cli.app_views`. The CLI deliberately talks only
HTTP here, so it works from any machine that can reach the server.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gitward.cli import api_client as api
from gitward.cli import app_views as views
from gitward.cli.api_client import DEFAULT_SERVER
from gitward.cli.output import OutputFormat, err_console, out_console
from gitward.errors import ConfigError

app = typer.Typer(
    help="Inspect and operate the applications of a running `gitward serve` over its API.",
    no_args_is_help=True,
)

POLL_SECONDS = 0.25
_FAILED = ("Failed", "Interrupted")


Server = Annotated[
    str,
    typer.Option(
        "--server",
        envvar="GITWARD_SERVER",
        help="URL of `gitward serve`.",
        rich_help_panel="Server",
    ),
]
TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        envvar="GITWARD_TOKEN_FILE",
        help="File holding the API bearer token "
        "\\[default: $XDG_STATE_HOME/gitward/server/admin-token].",
        rich_help_panel="Server",
    ),
]
Output = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", help="table for people; json or yaml for machines."),
]
AppName = Annotated[str, typer.Argument(help="Application name.", show_default=False)]


@app.command("list")
def list_apps(
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """List applications: sync state, health, revision, pin, suspension, last operation."""
    with api.connect(server, token_file) as client:
        items: list[dict[str, Any]] = client.request("GET", "/applications")["items"]
    views.show(items, output, lambda: out_console.print(views.apps_table(items)))


@app.command()
def get(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Show one application: source, destination, status, conditions, last operation."""
    with api.connect(server, token_file) as client:
        item = client.app(name)
    views.show(item, output, lambda: views.print_app(item))


@app.command()
def history(
    name: AppName,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Newest syncs to show.")] = 20,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Show past syncs, newest first; their ids are what `rollback --to` takes."""
    with api.connect(server, token_file) as client:
        items = client.request("GET", f"/applications/{name}/history", params={"limit": limit})
    records: list[dict[str, Any]] = items["items"]
    views.show(records, output, lambda: out_console.print(views.history_table(records)))


# ---------------------------------------------------------------------- actions


def _act(verb: str, name: str, server: str, token_file: Path | None, output: OutputFormat) -> None:
    with api.connect(server, token_file) as client:
        answer = client.request("POST", f"/applications/{name}/{verb}")
    views.show(answer, output, lambda: out_console.print(f"{verb} of {escape(name)} accepted"))


@app.command()
def refresh(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Look at Git and the cluster again now; sync only if the app is automated."""
    _act("refresh", name, server, token_file, output)


@app.command()
def suspend(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Stop reconciling the app (no syncs, no self-heal) until `resume`."""
    _act("suspend", name, server, token_file, output)


@app.command()
def resume(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Reconcile a suspended app again, starting with a refresh."""
    _act("resume", name, server, token_file, output)


@app.command()
def unpin(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Release a rollback pin: the app follows its branch in Git again."""
    _act("unpin", name, server, token_file, output)


@app.command()
def sync(
    name: AppName,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the sync to finish; exit 1 if it failed.")
    ] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait with --wait.")] = 300.0,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Sync the app now, even without automated sync."""
    if not wait:
        _act("sync", name, server, token_file, output)
        return
    with api.connect(server, token_file) as client:
        before = client.app(name)
        if before["suspended"]:
            raise ConfigError(
                f"{name} is suspended: it will not sync",
                hint=f"`gitward app resume {name}` first",
            )
        client.request("POST", f"/applications/{name}/sync")
        err_console.print(f"sync of {escape(name)} accepted; waiting for it to finish")
        op = _wait_for_sync(client, name, before, timeout)
    if isinstance(op, str):  # no operation: the reconcile failed before syncing
        err_console.print(f"[bold red]sync failed:[/bold red] {escape(op)}", soft_wrap=True)
        raise typer.Exit(1)
    views.show(op, output, lambda: views.print_operation(op))
    if op["result"] in _FAILED:
        raise typer.Exit(1)


def _wait_for_sync(
    client: api.Client, name: str, before: dict[str, Any], timeout: float
) -> dict[str, Any] | str:
    """Poll until a sync newer than ``before``'s last operation has finished.

    A failure before any sync starts (say, Git unreachable or a manifest that does not
    render) never creates an operation; a fresh ``ReconcileError`` condition then ends
    the wait, and its message is returned instead of an operation.
    """
    previous = (before["lastOperation"] or {}).get("id", 0)
    deadline = time.monotonic() + timeout
    with err_console.status(f"waiting for the sync of {escape(name)}") as spinner:
        while True:
            item = client.app(name)
            op = item["lastOperation"]
            if op and op["id"] > previous and op["result"] != "Running":
                return dict(op)
            error = _reconcile_error(item, before)
            if error:
                return error
            spinner.update(f"{escape(name)}: {_progress(item, op, previous)}")
            if time.monotonic() > deadline:
                raise api.ServerError(
                    f"the sync of {name} did not finish within {timeout:g}s",
                    hint=f"it may still be running: `gitward app get {name}`",
                )
            time.sleep(POLL_SECONDS)


def _progress(item: dict[str, Any], op: dict[str, Any] | None, previous: int) -> str:
    if op and op["id"] > previous:
        return f"sync #{op['id']} running"
    waiting = [c["message"] for c in item["conditions"] if c["type"] == "WaitingForDependency"]
    return waiting[0] if waiting else "queued"


def _reconcile_error(item: dict[str, Any], before: dict[str, Any]) -> str:
    """The message of a ReconcileError that appeared since ``before`` was read, else ''.

    Both the time and the conditions are compared: the API may report no ``updatedAt``.
    """
    if (item["updatedAt"], item["conditions"]) == (before["updatedAt"], before["conditions"]):
        return ""
    errors = [c["message"] for c in item["conditions"] if c["type"] == "ReconcileError"]
    return str(errors[0]) if errors else ""


@app.command()
def rollback(
    name: AppName,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="A sync id from `gitward app history`, or a revision (branch, tag, SHA).",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff and the changes; change nothing.")
    ] = False,
    until_new_commit: Annotated[
        bool,
        typer.Option(
            "--until-new-commit",
            help="Release the pin by itself when the branch gets a new commit (a fix).",
        ),
    ] = False,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Pin the app to an earlier commit; automated sync keeps it there until `unpin`."""
    body: dict[str, Any] = {"to": to, "dryRun": dry_run, "untilNewCommit": until_new_commit}
    with api.connect(server, token_file) as client:
        answer = client.request("POST", f"/applications/{name}/rollback", json=body)
    if dry_run:
        views.show(answer, output, lambda: views.print_preview(answer))
        return
    views.show(
        answer,
        output,
        lambda: out_console.print(
            f"{escape(name)}: pinned to {answer['pinned']}; release with "
            f"`gitward app unpin {escape(name)}`"
            + (" (or by a new commit on its branch)" if until_new_commit else "")
        ),
    )
