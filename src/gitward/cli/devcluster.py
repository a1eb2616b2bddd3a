"""`gitward dev-cluster`: a real local control plane for trying gitward and for tests."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from gitward.cli.output import ConsoleProgress, OutputFormat, emit, err_console, out_console
from gitward.devcluster import ControlPlane
from gitward.toolchain import ALL_TOOLS, TOOLS, Toolchain

app = typer.Typer(
    help="Run a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, "
    "kube-scheduler, kwok) built from Go modules, on 127.0.0.1.",
    no_args_is_help=True,
)

StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="GITWARD_DEV_CLUSTER_DIR",
        help="Where the cluster keeps its state, logs and kubeconfig "
        "\\[default: $XDG_STATE_HOME/gitward/dev-cluster].",
    ),
]


Name = Annotated[
    str | None,
    typer.Option(
        "--name",
        help="Shorthand for a state directory per cluster, for several side by side: "
        "$XDG_STATE_HOME/gitward/dev-clusters/NAME.",
        show_default=False,
    ),
]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def named_state_dir(name: str) -> Path:
    """Where ``--name NAME`` keeps its cluster: one directory per name."""
    if not _NAME.match(name) or len(name) > 40:
        raise typer.BadParameter("use lowercase letters, digits and '-'", param_hint="--name")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "gitward" / "dev-clusters" / name


def _plane(state_dir: Path | None, name: str | None = None) -> ControlPlane:
    if name is not None:
        if state_dir is not None:
            raise typer.BadParameter("give --name or --state-dir, not both", param_hint="--name")
        state_dir = named_state_dir(name)
    progress = ConsoleProgress()
    return ControlPlane(state_dir, Toolchain(progress=progress), progress=progress)


@app.command()
def up(
    state_dir: StateDir = None,
    name: Name = None,
    profile: Annotated[
        str, typer.Option(help="full: all components and a fake node; light: etcd + apiserver.")
    ] = "full",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each component.")] = 120.0,
) -> None:
    """Start the control plane in the background (idempotent); build binaries if missing."""
    if profile not in ("full", "light"):
        raise typer.BadParameter("use full or light", param_hint="--profile")
    plane = _plane(state_dir, name)
    plane.ready_timeout = timeout
    chosen: Literal["full", "light"] = "full" if profile == "full" else "light"
    state = plane.up(chosen)
    err_console.print(f"kubeconfig: {state.kubeconfig}")
    err_console.print('use it with: eval "$(gitward dev-cluster env)"')


@app.command()
def env(state_dir: StateDir = None, name: Name = None) -> None:
    """Print shell lines that set KUBECONFIG and put the built binaries on PATH."""
    typer.echo(_plane(state_dir, name).env_lines(), nl=False)


@app.command()
def status(
    state_dir: StateDir = None,
    name: Name = None,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.table,
) -> None:
    """Show whether the control plane is running and ready. Exit 1 when it is not."""
    result = _plane(state_dir, name).status()
    if output is not OutputFormat.table:
        emit(
            {
                "ready": result.ready,
                "message": result.message,
                "server": result.state.server if result.state else None,
                "kubeconfig": result.state.kubeconfig if result.state else None,
                "profile": result.state.profile if result.state else None,
                "components": [
                    {"name": c.component, "pid": c.pid, "running": c.running, "log": c.log}
                    for c in result.components
                ],
            },
            output,
        )
    else:
        table = Table("component", "pid", "state", "log", title=result.message)
        for c in result.components:
            table.add_row(
                c.component,
                str(c.pid),
                "[green]running[/green]" if c.running else "[red]stopped[/red]",
                c.log,
            )
        out_console.print(table)
    if not result.ready:
        raise typer.Exit(1)


@app.command()
def down(state_dir: StateDir = None, name: Name = None) -> None:
    """Stop exactly the processes `up` started (by PID) and remove the state directory."""
    plane = _plane(state_dir, name)
    stopped = plane.down()
    if stopped:
        err_console.print(f"stopped {', '.join(stopped)}; removed {plane.state_dir}")
    else:
        err_console.print(f"nothing was running in {plane.state_dir}")


@app.command()
def build(
    tools: Annotated[
        list[str] | None, typer.Argument(help="Tools to build \\[default: all].")
    ] = None,
) -> None:
    """Build the pinned binaries from Go modules into the user cache (skips cached ones)."""
    progress = ConsoleProgress()
    toolchain = Toolchain(progress=progress)
    names = tools or list(ALL_TOOLS)
    paths = toolchain.ensure(names)
    table = Table("tool", "version", "path")
    versions = {t.name: t.version for t in TOOLS}
    for name, path in paths.items():
        table.add_row(name, versions[name], str(path))
    out_console.print(table)
