"""`gitward app`: look at and act on the applications of a running `gitward serve`.

Every command is a thin client of the HTTP API (``/api/v1``): it needs the server URL
and a bearer token, read from a file so that it never shows up in ``ps`` or shell
history. The CLI deliberately talks only HTTP here: it imports no controller, store or
Kubernetes code, so it works from any machine that can reach the server.

Failures become :class:`~gitward.errors.GitwardError` subclasses with the server's own
message and a hint, so `gitward` prints ``error: ...`` and exits 2 instead of a
traceback. The token is never printed, not even in errors.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx2 as httpx
import typer
from rich.markup import escape
from rich.table import Table

from gitward.cli.output import OutputFormat, colored_diff, emit, err_console, out_console
from gitward.errors import ConfigError, GitwardError

app = typer.Typer(
    help="Inspect and operate the applications of a running `gitward serve` over its API.",
    no_args_is_help=True,
)

DEFAULT_SERVER = "http://127.0.0.1:8080"
REQUEST_TIMEOUT = 30.0
POLL_SECONDS = 0.25
_FAILED = ("Failed", "Interrupted")


def default_token_file() -> Path:
    """The admin token `gitward serve` creates in its default state directory.

    Computed here rather than imported from :mod:`gitward.serve`, so that the client
    does not load the server (uvicorn, Kubernetes, the store) just to find a file.
    """
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "server" / "admin-token"


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
        "[default: $XDG_STATE_HOME/gitward/server/admin-token].",
        rich_help_panel="Server",
    ),
]
Output = Annotated[
    OutputFormat,
    typer.Option("-o", "--output", help="table for people; json or yaml for machines."),
]
AppName = Annotated[str, typer.Argument(help="Application name.", show_default=False)]


# ---------------------------------------------------------------------- errors


class ServerError(GitwardError):
    """The API answered with an error, or could not be reached at all."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.transient = status is None or status >= 500


def _server_message(response: httpx.Response) -> tuple[str, str | None]:
    """The server's ``{"error", "hint"}`` body, or its text when it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase, None
    if not isinstance(body, dict):
        return str(body), None
    message, hint = str(body.get("error") or body), body.get("hint")
    if not hint and "\n  hint: " in message:  # some 400s fold the hint into the message
        message, hint = message.split("\n  hint: ", 1)
    return message, str(hint) if hint else None


def _http_error(response: httpx.Response, server: str, token_file: Path) -> ServerError:
    """Turn an error answer into a message that says what to do about it."""
    status = response.status_code
    message, hint = _server_message(response)
    if status == 401:
        hint = (
            f"check --token-file ({token_file}): it must hold the admin token of the server "
            f"at {server} (`gitward serve` writes it to STATE_DIR/admin-token)"
        )
    elif status == 403:
        hint = hint or "this token may only read; actions need a token with the admin role"
    elif status == 404:
        hint = hint or "see `gitward app list` for the applications this server manages"
    elif status >= 500:
        hint = hint or "the server failed; its log says why"
    return ServerError(f"{server} answered {status}: {message}", status=status, hint=hint)


# ---------------------------------------------------------------------- client


class Client:
    """A synchronous API client: one connection pool, the token, error translation."""

    def __init__(self, server: str, token_file: Path | None) -> None:
        self.server = server.rstrip("/")
        if not self.server.startswith(("http://", "https://")):
            raise ConfigError(
                f"--server {server!r} is not an HTTP URL", hint=f"e.g. {DEFAULT_SERVER}"
            )
        self.token_file = token_file or default_token_file()
        self._http = httpx.Client(
            base_url=self.server,
            timeout=REQUEST_TIMEOUT,
            headers={"Authorization": f"Bearer {_read_token(self.token_file)}"},
        )

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", **kwargs)
        except httpx.TimeoutException as e:
            raise ServerError(
                f"{self.server} did not answer within {REQUEST_TIMEOUT:g}s ({type(e).__name__})",
                hint="the server may be overloaded; try again, or check its log",
            ) from e
        except httpx.HTTPError as e:
            raise ServerError(
                f"cannot reach {self.server}: {e}",
                hint=f"is `gitward serve` running at {self.server}? "
                "Set --server or GITWARD_SERVER to where it listens",
            ) from e
        if response.status_code >= 400:
            raise _http_error(response, self.server, self.token_file)
        return response.json()

    def app(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = self.request("GET", f"/applications/{name}")
        return body


def _read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except FileNotFoundError as e:
        raise ConfigError(
            f"no API token file at {path}",
            hint="pass --token-file (or GITWARD_TOKEN_FILE); `gitward serve` writes its "
            "admin token to STATE_DIR/admin-token on first start",
        ) from e
    except OSError as e:
        raise ConfigError(f"cannot read the API token file {path}: {e.strerror}") from e
    if not token:
        raise ConfigError(f"the API token file {path} is empty", hint="pass --token-file")
    return token


@contextmanager
def _client(server: str, token_file: Path | None) -> Iterator[Client]:
    client = Client(server, token_file)
    try:
        yield client
    finally:
        client.close()


# ---------------------------------------------------------------------- formatting


def _short(sha: str | None) -> str:
    return sha[:7] if sha else "-"


def _when(at: str | None) -> str:
    if not at:
        return "-"
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S")


_STYLES = {
    "Synced": "green",
    "OutOfSync": "yellow",
    "Healthy": "green",
    "Progressing": "yellow",
    "Degraded": "red",
    "Missing": "red",
    "Suspended": "blue",
    "Succeeded": "green",
    "Running": "yellow",
    "Failed": "bold red",
    "Interrupted": "red",
    "created": "green",
    "configured": "yellow",
    "replaced": "yellow",
    "pruned": "magenta",
    "failed": "bold red",
    "hook failed": "bold red",
    "unchanged": "dim",
}


def _styled(value: str | None) -> str:
    text = escape(value or "-")
    style = _STYLES.get(value or "")
    return f"[{style}]{text}[/{style}]" if style else text


def _revision(item: dict[str, Any]) -> str:
    """One short sha when live is what is wanted, else ``live / wanted``."""
    live, wanted = item["revision"]["live"], item["revision"]["wanted"]
    if live and live == wanted:
        return _short(live)
    return f"{_short(live)} / {_short(wanted)}"


def _last_op(op: dict[str, Any] | None) -> str:
    if not op:
        return "-"
    return f"{_styled(op['result'])} #{op['id']} ({escape(op['trigger'])})"


def _show(data: Any, output: OutputFormat, table: Callable[[], None]) -> None:
    """Machines get the API's JSON as is; people get ``table()``."""
    if output is OutputFormat.table:
        table()
    else:
        emit(data, output)


def _apps_table(items: list[dict[str, Any]]) -> Table:
    table = Table(
        "name", "sync", "health", "revision", "pinned", "suspended", "last operation", box=None
    )
    for item in items:
        pinned = item["pinned"]
        table.add_row(
            escape(item["name"]),
            _styled(item["syncState"]),
            _styled(item["health"]["status"]),
            _revision(item),
            f"[bold yellow]{_short(pinned['sha'])}[/bold yellow]" if pinned else "",
            "[blue]yes[/blue]" if item["suspended"] else "",
            _last_op(item["lastOperation"]),
        )
    return table


def _objects_table(op: dict[str, Any]) -> Table:
    table = Table("object", "outcome", "message", box=None)
    for obj in op["objects"]:
        table.add_row(escape(obj["object"]), _styled(obj["outcome"]), escape(obj["message"]))
    return table


def _operation_line(op: dict[str, Any]) -> str:
    return (
        f"operation #{op['id']}: {_styled(op['result'])} — {escape(op['trigger'])} by "
        f"{escape(op['actor'])}, {_short(op['sha'])} ({escape(op['requested'] or '-')}), "
        f"started {_when(op['startedAt'])}, finished {_when(op['finishedAt'])}"
        + (f"\n  {escape(op['message'])}" if op["message"] else "")
    )


def _print_operation(op: dict[str, Any]) -> None:
    out_console.print(_operation_line(op), soft_wrap=True)
    if op["objects"]:
        out_console.print(_objects_table(op))


def _details(item: dict[str, Any]) -> Table:
    source, dest, policy = item["source"], item["destination"], item["syncPolicy"]
    pinned = item["pinned"]
    automation = "manual"
    if policy["automated"]:
        flags = [
            f for f, on in (("prune", policy["prune"]), ("self-heal", policy["selfHeal"])) if on
        ]
        automation = "automated" + (f" ({', '.join(flags)})" if flags else "")
    health = item["health"]
    rows = [
        ("name", escape(item["name"])),
        ("project", escape(item["project"] or "-")),
        (
            "source",
            escape(f"{source['repoURL']} path {source['path']} @ {source['targetRevision']}"),
        ),
        ("destination", escape(f"{dest['name'] or 'in-cluster'} / {dest['namespace'] or '-'}")),
        ("sync policy", automation),
        ("depends on", escape(", ".join(item["dependsOn"]) or "-")),
        ("sync state", _styled(item["syncState"])),
        (
            "health",
            _styled(health["status"])
            + (f" ({escape(health['message'])})" if health["message"] else ""),
        ),
        (
            "revision",
            f"live {_short(item['revision']['live'])}, wanted {_short(item['revision']['wanted'])}"
            f" ({escape(item['revision']['requested'] or '-')})",
        ),
        (
            "pinned",
            f"[bold yellow]{pinned['sha']}[/bold yellow] by {escape(pinned['by'])} at "
            f"{_when(pinned['at'])} ({escape(pinned['reason'] or '-')}); "
            f"release with `gitward app unpin {escape(item['name'])}`"
            if pinned
            else "no",
        ),
        ("suspended", "[blue]yes[/blue]" if item["suspended"] else "no"),
        ("updated", _when(item["updatedAt"])),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def _print_app(item: dict[str, Any]) -> None:
    out_console.print(_details(item), soft_wrap=True)
    if item["conditions"]:
        table = Table("condition", "status", "message", box=None, title_justify="left")
        for c in item["conditions"]:
            table.add_row(escape(c["type"]), escape(c["status"]), escape(c["message"]))
        out_console.print(table)
    op = item["lastOperation"]
    if op:
        out_console.print()
        _print_operation(op)


# ---------------------------------------------------------------------- read commands


@app.command("list")
def list_apps(
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """List applications: sync state, health, revision, pin, suspension, last operation."""
    with _client(server, token_file) as client:
        items: list[dict[str, Any]] = client.request("GET", "/applications")["items"]
    _show(items, output, lambda: out_console.print(_apps_table(items)))


@app.command()
def get(
    name: AppName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Show one application: source, destination, status, conditions, last operation."""
    with _client(server, token_file) as client:
        item = client.app(name)
    _show(item, output, lambda: _print_app(item))


@app.command()
def history(
    name: AppName,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Newest syncs to show.")] = 20,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Show past syncs, newest first; their ids are what `rollback --to` takes."""
    with _client(server, token_file) as client:
        items = client.request("GET", f"/applications/{name}/history", params={"limit": limit})
    records: list[dict[str, Any]] = items["items"]
    _show(records, output, lambda: out_console.print(_history_table(records)))


def _history_table(records: list[dict[str, Any]]) -> Table:
    table = Table("id", "started", "trigger", "actor", "revision", "result", "message", box=None)
    for r in records:
        table.add_row(
            str(r["id"]),
            _when(r["startedAt"]),
            escape(r["trigger"]),
            escape(r["actor"]),
            _short(r["sha"]),
            _styled(r["result"]),
            escape(r["message"] or ""),
        )
    return table


# ---------------------------------------------------------------------- actions


def _act(verb: str, name: str, server: str, token_file: Path | None, output: OutputFormat) -> None:
    with _client(server, token_file) as client:
        answer = client.request("POST", f"/applications/{name}/{verb}")
    _show(answer, output, lambda: out_console.print(f"{verb} of {escape(name)} accepted"))


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
    with _client(server, token_file) as client:
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
    _show(op, output, lambda: _print_operation(op))
    if op["result"] in _FAILED:
        raise typer.Exit(1)


def _wait_for_sync(
    client: Client, name: str, before: dict[str, Any], timeout: float
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
                raise ServerError(
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
    with _client(server, token_file) as client:
        answer = client.request("POST", f"/applications/{name}/rollback", json=body)
    if dry_run:
        _show(answer, output, lambda: _print_preview(answer))
        return
    _show(
        answer,
        output,
        lambda: out_console.print(
            f"{escape(name)}: pinned to {answer['pinned']}; release with "
            f"`gitward app unpin {escape(name)}`"
            + (" (or by a new commit on its branch)" if until_new_commit else "")
        ),
    )


def _print_preview(preview: dict[str, Any]) -> None:
    changes: list[dict[str, Any]] = preview["changes"]
    if changes:
        table = Table("action", "object", "reason", box=None)
        for c in changes:
            table.add_row(
                f"[bold]{escape(c['action'])}[/bold]",
                escape(c["object"]),
                escape(c["reason"] or ""),
            )
        out_console.print(table)
    if preview["diff"]:
        out_console.print(colored_diff(preview["diff"]), soft_wrap=True)
    err_console.print(
        f"dry run: rolling {escape(preview['app'])} back to {preview['sha']} would change "
        f"{len(changes)} object{'s' if len(changes) != 1 else ''}; nothing was changed"
    )
