"""Terminal output shared by the commands: progress lines, errors, machine formats."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from typing import Any

import orjson
import yaml
from rich.console import Console
from rich.markup import escape

# Progress and errors go to stderr so that stdout stays clean for `eval` and pipes.
err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


class ConsoleProgress:
    """A :class:`gitward.ports.Progress` that prints timestamped steps to stderr."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def _stamp(self) -> str:
        return f"[dim]{time.monotonic() - self._started:6.1f}s[/dim]"

    def step(self, message: str) -> None:
        err_console.print(f"{self._stamp()} [cyan]…[/cyan] {message}")

    def done(self, message: str) -> None:
        err_console.print(f"{self._stamp()} [green]✓[/green] {message}")


def emit(data: Any, fmt: OutputFormat) -> None:
    """Print ``data`` as JSON or YAML on stdout (tables are rendered by each command)."""
    if fmt is OutputFormat.json:
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False))


def colored_diff(diff_text: str) -> str:
    """Rich markup for a unified diff: headers bold, + green, - red, hunks cyan."""
    lines = []
    for line in diff_text.splitlines():
        text = escape(line)
        if line.startswith(("+++", "---")):
            lines.append(f"[bold]{text}[/bold]")
        elif line.startswith("+"):
            lines.append(f"[green]{text}[/green]")
        elif line.startswith("-"):
            lines.append(f"[red]{text}[/red]")
        elif line.startswith("@@"):
            lines.append(f"[cyan]{text}[/cyan]")
        else:
            lines.append(text)
    return "\n".join(lines)
