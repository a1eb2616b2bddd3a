"""docs/cli.md is the CLI's own description: every command and option, as the code has them."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from gitward.cli.reference import REGENERATE, render_reference
from gitward.cli.root import build_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_cli_reference_matches_the_commands() -> None:
    expected = render_reference()
    actual = DOC.read_text() if DOC.exists() else ""
    assert actual == expected, (
        f"docs/cli.md differs from the CLI: run `{REGENERATE}` and commit docs/cli.md"
    )


def _params(command: object) -> list[tuple[str, str]]:
    found = []
    if isinstance(command, typer.core.TyperGroup):
        for name, sub in command.commands.items():
            found += [(f"{name} {where}", text) for where, text in _params(sub)]
    if isinstance(command, typer.core.TyperGroup | typer.core.TyperCommand):
        for param in command.params:
            help_text = getattr(param, "help", None) or ""
            found.append((str(param.name), help_text))
    return found


def test_help_brackets_are_escaped_so_rich_does_not_swallow_them() -> None:
    """Typer renders help as Rich markup: an unescaped "[default: x]" vanishes from --help."""
    app = typer.main.get_command(build_app(load_all=True))
    swallowed = [
        f"{where}: {text!r}"
        for where, text in _params(app)
        if re.search(r"(?<!\\)\[[a-z#/@]", text)
    ]
    assert not swallowed, "write \\[ for a literal [ in help text: " + "; ".join(swallowed)
