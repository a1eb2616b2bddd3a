"""`gitward cluster`: the clusters a running `gitward serve` deploys to, and their health.

A thin client of ``/api/v1/clusters`` (:mod:`gitward.api.clusters`), like `gitward app`:
a table for people, the API's JSON or YAML for machines. The server never sends
credentials, so nothing here has any to hide.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from gitward.cli import api_client as api
from gitward.cli.api_client import DEFAULT_SERVER
from gitward.cli.app_commands import Output, Server, TokenFile
from gitward.cli.app_views import show, when
from gitward.cli.output import OutputFormat, out_console

app = typer.Typer(
    help="Show the clusters of a running `gitward serve`: health, version, labels, apps.",
    no_args_is_help=True,
)

ClusterName = Annotated[str, typer.Argument(help="Cluster name.", show_default=False)]
_STATE_STYLES = {"Ready": "green", "Unknown": "yellow"}


def _state(value: str) -> str:
    style = _STATE_STYLES.get(value, "red")
    return f"[{style}]{escape(value)}[/{style}]"


def _labels(item: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(item["labels"].items())) or "-"


def clusters_table(items: list[dict[str, Any]]) -> Table:
    table = Table("name", "state", "version", "last contact", "apps", "labels", "error", box=None)
    for item in items:
        table.add_row(
            escape(item["name"]),
            _state(item["state"]),
            escape(item["version"] or "-"),
            when(item["lastContact"]),
            str(len(item["apps"])),
            escape(_labels(item)),
            escape(item["lastError"] if item["state"] != "Ready" else ""),
        )
    return table


def print_cluster(item: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None)
    rows = [
        ("name", escape(item["name"])),
        ("state", _state(item["state"]) + f" since {when(item['since'])}"),
        ("server", escape(item["server"] or "-")),
        ("version", escape(item["version"] or "-")),
        ("last contact", when(item["lastContact"])),
        ("last error", escape(item["lastError"] or "-")),
        ("labels", escape(_labels(item))),
        ("declared by", escape(f"{item['declaredBy']} {item['origin']}".strip())),
        ("apps", escape(", ".join(item["apps"]) or "-")),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/bold]", value)
    out_console.print(table)


@app.command("list")
def list_clusters(
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """List clusters: state (Ready, Unreachable, Unauthorized, Invalid), version, apps."""
    with api.connect(server, token_file) as client:
        items: list[dict[str, Any]] = client.request("GET", "/clusters")["items"]
    show(items, output, lambda: out_console.print(clusters_table(items)))


@app.command()
def get(
    name: ClusterName,
    server: Server = DEFAULT_SERVER,
    token_file: TokenFile = None,
    output: Output = OutputFormat.table,
) -> None:
    """Show one cluster: state and since when, last contact and error, labels, apps."""
    with api.connect(server, token_file) as client:
        item: dict[str, Any] = client.request("GET", f"/clusters/{name}")
    show(item, output, lambda: print_cluster(item))
