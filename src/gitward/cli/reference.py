"""Write docs/cli.md from the real Typer app, so the documented options are the real ones.

Every command, argument and option is taken from the app :func:`~gitward.cli.root.build_app`
builds with all commands loaded, through Click's own help records (the same text
``--help`` prints). ``scripts/gen-cli-docs`` writes the file;
``tests/unit/test_cli_docs.py`` fails when the committed file differs.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from gitward.cli.root import build_app

Cmd = typer.core.TyperCommand | typer.core.TyperGroup
REGENERATE = "scripts/gen-cli-docs"
HEADER = f"""# Command-line reference

Generated from the CLI itself by `{REGENERATE}`: do not edit by hand. A unit test
fails when this file and the commands differ; run `{REGENERATE}` after changing a
command, an option or a help text, and commit the result. Every command also takes
`-h`/`--help`.
"""


def render_reference() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(build_app(load_all=True))
    if not isinstance(root, typer.core.TyperGroup):
        raise TypeError(f"the gitward app is a {type(root).__name__}, not a group")
    context = typer.Context(root, info_name="gitward")
    sections = [HEADER, *_sections(root, context)]
    return "\n".join(sections).rstrip() + "\n"


def _sections(command: Cmd, ctx: typer.Context) -> Iterator[str]:
    yield _section(command, ctx)
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            if isinstance(sub, Cmd) and not sub.hidden:
                yield from _sections(sub, typer.Context(sub, info_name=name, parent=ctx))


def _section(command: Cmd, ctx: typer.Context) -> str:
    path = ctx.command_path
    lines = [f"## `{path}`", ""]
    if command.help:
        lines += [_text(inspect.cleandoc(command.help)), ""]
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    lines += [f"Usage: `{usage}`", ""]
    panels: dict[str, list[str]] = {}
    for param in command.params:
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        panel = getattr(param, "rich_help_panel", None) or (
            "Arguments" if isinstance(param, typer.core.TyperArgument) else "Options"
        )
        panels.setdefault(panel, []).append(f"| `{_cell(names)}` | {_cell(_text(help_text))} |")
    for panel, rows in panels.items():
        lines += [f"{panel}:", "", "| | |", "|---|---|", *rows, ""]
    if isinstance(command, typer.core.TyperGroup):
        subs = [
            f"[`{name}`](#{_anchor(f'{path} {name}')})"
            for name, sub in command.commands.items()
            if not sub.hidden
        ]
        lines += [f"Commands: {', '.join(subs)}", ""]
    return "\n".join(lines)


def _text(text: str) -> str:
    """Help as shown: Rich markup escapes (``\\[``) are literal brackets."""
    return text.replace("\\[", "[")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(heading: str) -> str:
    return "-".join(heading.lower().split())


def main(argv: list[str] | None = None) -> None:
    """``python -m gitward.cli.reference [FILE]``: write the reference to FILE or stdout."""
    args = sys.argv[1:] if argv is None else argv
    text = render_reference()
    if args:
        Path(args[0]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
