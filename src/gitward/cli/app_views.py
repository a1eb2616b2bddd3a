"""How `gitward app` shows what the API answers: tables and lines for people.

Machines get the API's JSON (or YAML) as is, through :func:`show`; everything here
renders the same dictionaries for a terminal. Every value from the server is escaped
before it reaches Rich markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from gitward.cli.output import OutputFormat, colored_diff, emit, err_console, out_console


def short(sha: str | None) -> str:
    return sha[:7] if sha else "-"


def when(at: str | None) -> str:
    if not at:
        return "-"
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M:%S")


STYLES = {
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


def styled(value: str | None) -> str:
    text = escape(value or "-")
    style = STYLES.get(value or "")
    return f"[{style}]{text}[/{style}]" if style else text


def revision(item: dict[str, Any]) -> str:
    """One short sha when live is what is wanted, else ``live / wanted``."""
    live, wanted = item["revision"]["live"], item["revision"]["wanted"]
    if live and live == wanted:
        return short(live)
    return f"{short(live)} / {short(wanted)}"


def last_op(op: dict[str, Any] | None) -> str:
    if not op:
        return "-"
    return f"{styled(op['result'])} #{op['id']} ({escape(op['trigger'])})"


def show(data: Any, output: OutputFormat, table: Callable[[], None]) -> None:
    """Machines get the API's JSON as is; people get ``table()``."""
    if output is OutputFormat.table:
        table()
    else:
        emit(data, output)


def apps_table(items: list[dict[str, Any]]) -> Table:
    table = Table(
        "name", "sync", "health", "revision", "pinned", "suspended", "last operation", box=None
    )
    for item in items:
        pinned = item["pinned"]
        table.add_row(
            escape(item["name"]),
            styled(item["syncState"]),
            styled(item["health"]["status"]),
            revision(item),
            f"[bold yellow]{short(pinned['sha'])}[/bold yellow]" if pinned else "",
            "[blue]yes[/blue]" if item["suspended"] else "",
            last_op(item["lastOperation"]),
        )
    return table


def objects_table(op: dict[str, Any]) -> Table:
    table = Table("object", "outcome", "message", box=None)
    for obj in op["objects"]:
        table.add_row(escape(obj["object"]), styled(obj["outcome"]), escape(obj["message"]))
    return table


def operation_line(op: dict[str, Any]) -> str:
    return (
        f"operation #{op['id']}: {styled(op['result'])} — {escape(op['trigger'])} by "
        f"{escape(op['actor'])}, {short(op['sha'])} ({escape(op['requested'] or '-')}), "
        f"started {when(op['startedAt'])}, finished {when(op['finishedAt'])}"
        + (f"\n  {escape(op['message'])}" if op["message"] else "")
    )


def print_operation(op: dict[str, Any]) -> None:
    out_console.print(operation_line(op), soft_wrap=True)
    if op["objects"]:
        out_console.print(objects_table(op))


def details(item: dict[str, Any]) -> Table:
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
        ("sync state", styled(item["syncState"])),
        (
            "health",
            styled(health["status"])
            + (f" ({escape(health['message'])})" if health["message"] else ""),
        ),
        (
            "revision",
            f"live {short(item['revision']['live'])}, wanted {short(item['revision']['wanted'])}"
            f" ({escape(item['revision']['requested'] or '-')})",
        ),
        (
            "pinned",
            f"[bold yellow]{pinned['sha']}[/bold yellow] by {escape(pinned['by'])} at "
            f"{when(pinned['at'])} ({escape(pinned['reason'] or '-')}); "
            f"release with `gitward app unpin {escape(item['name'])}`"
            if pinned
            else "no",
        ),
        ("suspended", "[blue]yes[/blue]" if item["suspended"] else "no"),
        ("updated", when(item["updatedAt"])),
    ]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def print_app(item: dict[str, Any]) -> None:
    out_console.print(details(item), soft_wrap=True)
    if item["conditions"]:
        table = Table("condition", "status", "message", box=None, title_justify="left")
        for c in item["conditions"]:
            table.add_row(escape(c["type"]), escape(c["status"]), escape(c["message"]))
        out_console.print(table)
    op = item["lastOperation"]
    if op:
        out_console.print()
        print_operation(op)


def history_table(records: list[dict[str, Any]]) -> Table:
    table = Table("id", "started", "trigger", "actor", "revision", "result", "message", box=None)
    for r in records:
        table.add_row(
            str(r["id"]),
            when(r["startedAt"]),
            escape(r["trigger"]),
            escape(r["actor"]),
            short(r["sha"]),
            styled(r["result"]),
            escape(r["message"] or ""),
        )
    return table


def print_preview(preview: dict[str, Any]) -> None:
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
