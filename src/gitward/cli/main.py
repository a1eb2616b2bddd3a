"""Entry point of the `gitward` command: a light dispatcher in front of the Typer app.

Start-up time matters for a command people and CI scripts run many times: importing
every command's modules (the Kubernetes client, Git, the API server, Rich, Typer) made
`gitward --version` take 0.6 s. So :func:`main` answers ``--version`` without importing
Typer, and otherwise builds the app (:mod:`gitward.cli.root`) with only the invoked
command loaded; the table of commands is :mod:`gitward.cli.commands`.
"""

from __future__ import annotations

import os
import sys

from gitward import __version__

_ROOT_FLAGS = ("--help", "-h", "--install-completion", "--show-completion")


def invoked(argv: list[str]) -> str | None:
    """The command named on the command line: the first word that is not a root flag."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
        if arg not in _ROOT_FLAGS and arg != "--version":
            return None  # an unknown root option: let Typer say so
    return None


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a :class:`GitwardError` becomes a readable message and exit code 2.

    Usage errors, ``--help`` and exit codes are Typer's (standalone mode); everything
    gitward raises on purpose is printed without a traceback.
    """
    args = sys.argv[1:] if argv is None else argv
    command = invoked(args)
    if "--version" in args[: args.index(command) if command else len(args)]:
        # What Typer's eager --version does, without importing Typer.
        sys.stdout.write(f"gitward {__version__}\n")
        sys.exit(0)

    from gitward.cli.root import build_app  # noqa: PLC0415
    from gitward.errors import GitwardError  # noqa: PLC0415

    # Shell completion walks the whole tree: load every command for it.
    app = build_app(command, load_all="_GITWARD_COMPLETE" in os.environ)
    try:
        app(args=args, prog_name="gitward")
    except GitwardError as e:
        from rich.markup import escape  # noqa: PLC0415

        from gitward.cli.output import err_console  # noqa: PLC0415

        err_console.print(f"[bold red]error:[/bold red] {escape(e.message)}", soft_wrap=True)
        if e.hint:
            err_console.print(f"[yellow]hint:[/yellow] {escape(e.hint)}", soft_wrap=True)
        sys.exit(2)
