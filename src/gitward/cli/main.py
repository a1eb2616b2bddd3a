"""Entry point of the `gitward` command: global options, error handling, subcommands."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from gitward import __version__
from gitward.cli import app_commands, devcluster, engine_commands, health, serve, validate
from gitward.cli.output import err_console
from gitward.errors import GitwardError

app = typer.Typer(
    name="gitward",
    help="gitward: a GitOps engine. Git holds the desired state; gitward makes clusters match.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(devcluster.app, name="dev-cluster")
app.add_typer(app_commands.app, name="app")
engine_commands.register(app)
app.command("serve")(serve.serve)
app.command("health")(health.health)
app.command("validate")(validate.validate)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitward {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """gitward: a GitOps engine. Git holds the desired state; gitward makes clusters match."""


def main() -> None:
    """Run the CLI; a :class:`GitwardError` becomes a readable message and exit code 2.

    Usage errors, ``--help`` and exit codes are Typer's (standalone mode); everything
    gitward raises on purpose is printed without a traceback.
    """
    try:
        app()
    except GitwardError as e:
        err_console.print(f"[bold red]error:[/bold red] {escape(e.message)}", soft_wrap=True)
        if e.hint:
            err_console.print(f"[yellow]hint:[/yellow] {escape(e.hint)}", soft_wrap=True)
        sys.exit(2)
