"""`--policy PATH` on `diff` and `sync`, and how their policy verdicts are printed.

The verdict is the policy stage's (:mod:`gitward.policy`): the same violations
`gitward validate` reports. A denial refuses the whole sync (exit 1, nothing applied);
warnings are printed and the sync goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gitward.cli.output import err_console
from gitward.errors import PolicyError
from gitward.model.policy import PolicyMode, Verdict

if TYPE_CHECKING:
    from gitward.policy.set import PolicyChecker

PolicyPaths = Annotated[
    list[Path] | None,
    typer.Option(
        "--policy",
        help="A .rego file, a ValidatingAdmissionPolicy/AppProject YAML, or a folder of them "
        "(repeatable).",
    ),
]


@contextmanager
def policy_stage(paths: list[Path] | None) -> Iterator[PolicyChecker | None]:
    """The checker for ``--policy`` (None without), closed at the end; a refusal exits 1."""
    if not paths:
        yield None
        return
    from gitward import compose  # noqa: PLC0415 - only commands given --policy pay for it

    checker = compose.policy_checker(paths)
    try:
        checker.warm()
        yield checker
    except PolicyError as e:
        print_verdict(e.verdict)
        err_console.print(f"[bold red]refused by policy:[/bold red] {escape(e.message)}")
        raise typer.Exit(1) from e
    finally:
        checker.close()


def print_verdict(verdict: Verdict) -> None:
    """The violations as a table on stderr (stdout stays for the command's own output)."""
    if not verdict.violations:
        return
    table = Table("OBJECT", "MODE", "POLICY", "RULE", "MESSAGE", box=None, title="policy")
    for v in verdict.violations:
        mode = "[red]deny[/red]" if v.mode is PolicyMode.DENY else "[yellow]warn[/yellow]"
        table.add_row(escape(v.subject), mode, escape(v.policy), escape(v.rule), escape(v.message))
    err_console.print(table)
