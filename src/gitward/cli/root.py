"""The Typer app of `gitward`, built with only the commands a run needs.

:func:`build_app` imports the invoked command's module and registers the rest as
stand-ins that carry their help text from :data:`~gitward.cli.commands.COMMANDS`, so
``gitward --help`` lists every command while importing none of them.
``load_all=True`` builds the complete app (docs generation, shell completion).
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated

import typer

from gitward import __version__
from gitward.cli.commands import COMMANDS, HELP


def build_app(load: str | None = None, *, load_all: bool = False) -> typer.Typer:
    """The Typer app with ``load`` (or every command) real and the rest as help stand-ins."""
    app = typer.Typer(
        name="gitward",
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for command in COMMANDS:
        real = load_all or command.name == load
        target = getattr(import_module(command.module), command.attribute) if real else None
        if command.group:
            sub = target if target is not None else typer.Typer(help=command.help)
            app.add_typer(sub, name=command.name)
        else:
            app.command(command.name, help=None if real else command.help)(target or _stand_in)
    return app


def _stand_in() -> None:
    """Never run: a command is loaded for real whenever it is the one invoked."""
    raise AssertionError("a stand-in command ran")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitward {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """gitward: a GitOps engine. Git holds the desired state; gitward makes clusters match."""
