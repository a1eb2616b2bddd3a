"""`gitward import flux|argocd`: move from Flux or Argo CD by reading what a cluster runs.

Lists the Flux objects (GitRepository, Kustomization, ...) or Argo CD Applications and
AppProjects of a live cluster, translates them (:mod:`gitward.spec.flux.importing`,
pure) and writes gitward's declarations: one YAML file per app into ``--output-dir``,
or one stream on stdout. What could not be translated is listed on stderr with the
reason, and the exit code is 1; kinds the cluster does not serve are skipped and said.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape

from gitward import compose
from gitward.cli import appflags as f
from gitward.cli.output import err_console
from gitward.errors import UnknownKindError
from gitward.ports import Cluster
from gitward.spec.flux.importing import (
    ARGOCD_KINDS,
    FLUX_KINDS,
    Imported,
    import_argocd,
    import_flux,
)


class ImportSource(StrEnum):
    flux = "flux"
    argocd = "argocd"


class ImportFormat(StrEnum):
    yaml = "yaml"


def import_(
    source: Annotated[ImportSource, typer.Argument(help="What the cluster runs now.")],
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir", help="Write one file per declaration here \\[default: stdout]."
        ),
    ] = None,
    output: Annotated[
        ImportFormat,
        typer.Option("--output", "-o", help="The format on stdout (without --output-dir)."),
    ] = ImportFormat.yaml,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Only this namespace \\[default: all]."),
    ] = None,
    kubeconfig: f.Kubeconfig = None,
    context: f.Context = None,
) -> None:
    """Write gitward declarations for the Flux or Argo CD apps of a live cluster."""
    del output  # YAML is the one format; the option is there for scripts that name it
    settings = f.settings(kubeconfig=kubeconfig, context=context)
    kinds = FLUX_KINDS if source is ImportSource.flux else ARGOCD_KINDS
    objects = asyncio.run(_list(settings, kinds, namespace))
    translate = import_flux if source is ImportSource.flux else import_argocd
    imported = translate(objects)
    _write(imported, output_dir)
    for problem in imported.problems:
        err_console.print(f"[yellow]not imported:[/yellow] {escape(problem)}", soft_wrap=True)
    written = len(imported.files)
    err_console.print(f"{written} declaration(s) written, {len(imported.problems)} not imported")
    raise typer.Exit(1 if imported.problems else 0)


async def _list(
    settings: compose.Settings, kinds: tuple[tuple[str, str], ...], namespace: str | None
) -> list[dict[str, Any]]:
    async with compose.kube_client(settings) as cluster:
        found: list[dict[str, Any]] = []
        for group, kind in kinds:
            found.extend(await _list_kind(cluster, group, kind, namespace))
        return found


async def _list_kind(
    cluster: Cluster, group: str, kind: str, namespace: str | None
) -> list[dict[str, Any]]:
    try:
        return await cluster.list(group, kind, namespace=namespace)
    except UnknownKindError:
        err_console.print(f"[dim]the cluster serves no {kind} ({group}): none to import[/dim]")
        return []


def _write(imported: Imported, output_dir: Path | None) -> None:
    if output_dir is None:
        documents = [imported.files[name] for name in sorted(imported.files)]
        typer.echo(yaml.safe_dump_all(documents, sort_keys=False), nl=False)
        return
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, document in sorted(imported.files.items()):
        (output_dir / name).write_text(yaml.safe_dump(document, sort_keys=False))
        err_console.print(f"wrote {output_dir / name}")
