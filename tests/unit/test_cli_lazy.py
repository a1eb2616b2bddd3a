"""The `gitward` dispatcher: each run imports only the command it runs.

Start-up time is measured in benchmarks/cli_bench.py; here we check what it depends
on: which modules a run loads, and that the help kept in the light command table is the
commands' own.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from importlib import import_module

import pytest
import typer

from gitward.cli.commands import COMMANDS, HELP, Command
from gitward.cli.main import invoked
from gitward.cli.root import build_app

HEAVY = ("typer", "click", "rich", "lightkube", "httpx2", "pygit2", "yaml", "sqlalchemy")

PROBE = """
import json, sys
from gitward.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(*args: str) -> set[str]:
    """The modules a fresh interpreter holds after ``gitward ARGS``."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return set(json.loads(run.stderr.strip().splitlines()[-1]))


def roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_version_loads_no_third_party_module() -> None:
    modules = loaded_by("--version")
    assert not roots(modules) & set(HEAVY)
    assert "gitward.cli.root" not in modules


def test_help_lists_every_command_without_importing_any() -> None:
    modules = loaded_by("--help")
    assert not {c.module for c in COMMANDS} & modules
    assert not roots(modules) & {"lightkube", "httpx2", "pygit2", "sqlalchemy", "uvicorn"}


def test_the_api_client_does_not_load_kubernetes_git_or_the_server() -> None:
    modules = loaded_by("app", "--help")
    assert "gitward.cli.app_commands" in modules
    assert not roots(modules) & {"lightkube", "pygit2", "sqlalchemy", "uvicorn"}
    assert "gitward.compose" not in modules


def test_render_diff_and_sync_load_no_server_store_notifier_or_policy_stage() -> None:
    """What `diff` imports is most of its start-up time: only the engine's own path."""
    run = subprocess.run(
        [sys.executable, "-c", "import sys, gitward.cli.engine_commands; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(run.stdout.split())
    assert not roots(modules) & {"uvicorn", "starlette", "sqlalchemy", "alembic", "pydantic"}
    serve_only = ("gitward.policy", "gitward.store", "gitward.notify", "gitward.api")
    assert not {m for m in modules if m.startswith(serve_only)}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_the_table_help_is_the_commands_own(command: Command) -> None:
    """`gitward --help` shows the table's text: it must say what the command says."""
    target = getattr(import_module(command.module), command.attribute)
    own = target.info.help if isinstance(target, typer.Typer) else inspect.getdoc(target)
    assert isinstance(own, str)
    assert command.help == own.split("\n\n")[0].replace("\n", " ")


def test_the_full_app_has_exactly_the_table_commands() -> None:
    app = typer.main.get_command(build_app(load_all=True))
    assert isinstance(app, typer.core.TyperGroup)
    assert list(app.commands) == [c.name for c in COMMANDS]
    assert app.help == HELP


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        ([], None),
        (["--help"], None),
        (["diff", "--repo", "x"], "diff"),
        (["-h", "app", "list"], "app"),
        (["--version", "sync"], "sync"),
        (["--bogus", "diff"], None),
    ],
)
def test_the_invoked_command_is_the_first_word_after_root_flags(
    argv: list[str], command: str | None
) -> None:
    assert invoked(argv) == command
