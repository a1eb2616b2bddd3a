"""`gitward health`: the health of objects in files, offline, as the engine would judge it.

The objects go through the same :class:`~gitward.observe.health.HealthEvaluator`, rule
library and built-in checks the engine uses during a sync, so a verdict here is the
verdict there: useful to try a rule before committing it, to check the bundled rules'
fixtures, or to read ``kubectl get -o yaml`` output. Exit 0 whatever the objects'
health (the command reports), 2 on bad input: a file that cannot be read or parsed, a
document that is not an object, a rule file that does not load (the other rules still
apply and the results are still printed).

The rule library and CEL are imported inside the command, so that other commands do
not pay for them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.table import Table
from rich.text import Text

from gitward import loading
from gitward.cli.output import OutputFormat, emit, err_console, out_console
from gitward.errors import ConfigError

if TYPE_CHECKING:
    from gitward.model import HealthRule
    from gitward.observe.health import HealthEvaluator

_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = Path("-")

Files = Annotated[
    list[Path],
    typer.Option(
        "-f",
        "--filename",
        help="A YAML/JSON file, a folder of them, or - for standard input (repeatable).",
    ),
]
Rules = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="A folder of health rule files that add to or replace bundled rules (repeatable).",
    ),
]
AppFile = Annotated[
    Path | None,
    typer.Option("--app", help="An Application file whose healthChecks apply first."),
]
Grace = Annotated[
    float,
    typer.Option(
        "--no-status-grace",
        help="Seconds a known kind without status may wait for its controller before it "
        "is Degraded.",
    ),
]
Output = Annotated[str, typer.Option("-o", "--output", help="table or json.")]


def health(
    filename: Files,
    rules: Rules = None,
    app_file: AppFile = None,
    no_status_grace: Grace = 600.0,
    output: Output = "table",
) -> None:
    """Report the health of every object in the given files, without a cluster."""
    if output not in ("table", "json"):
        raise ConfigError(f"-o {output}: use table or json")
    evaluator, rule_errors = _evaluator(rules or [], app_file, no_status_grace)
    results = [_entry(path, obj, evaluator) for path, obj in _objects(filename)]
    _print(results, output)
    for error in rule_errors:
        err_console.print(f"[bold red]error:[/bold red] {error}", soft_wrap=True, markup=False)
    if rule_errors:
        raise typer.Exit(2)


def _evaluator(
    rules: list[Path], app_file: Path | None, grace: float
) -> tuple[HealthEvaluator, list[str]]:
    # Lazy: CEL and the rule files load only when this command runs.
    from gitward.healthrules import env_folders, load_library  # noqa: PLC0415
    from gitward.observe.health import HealthEvaluator, HealthSettings  # noqa: PLC0415
    from gitward.ports import SystemClock  # noqa: PLC0415

    library = load_library([*env_folders(), *rules])
    app_rules = _app_rules(app_file) if app_file else ()
    evaluator = HealthEvaluator(
        app_rules,
        library,
        clock=SystemClock(),
        settings=HealthSettings(no_status_grace=grace),
    )
    return evaluator, [str(e) for e in library.errors]


def _app_rules(path: Path) -> tuple[HealthRule, ...]:
    from gitward.spec.application import parse_application  # noqa: PLC0415

    docs = _documents(path)
    if len(docs) != 1:
        raise ConfigError(f"--app {path}: expected one Application document, found {len(docs)}")
    return parse_application(docs[0], str(path)).health_rules


def _documents(path: Path) -> list[Any]:
    try:
        text = sys.stdin.read() if path == STDIN else path.read_text(encoding="utf-8")
        return [d for d in loading.load_all(text) if d is not None]
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML or JSON: {e}") from e


def _objects(paths: list[Path]) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in _files(paths):
        for doc in _documents(path):
            if not isinstance(doc, dict):
                raise ConfigError(f"{path}: a document is a {type(doc).__name__}, not an object")
            items = doc.get("items")
            if str(doc.get("kind", "")).endswith("List") and isinstance(items, list):
                yield from ((path, item) for item in items if isinstance(item, dict))
            else:
                yield path, doc


def _files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path == STDIN:
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
        elif path.is_file():
            yield path
        else:
            raise ConfigError(f"-f {path}: no such file or folder")


def _entry(path: Path, obj: dict[str, Any], evaluator: HealthEvaluator) -> dict[str, str]:
    from gitward.observe.health import group_kind_of  # noqa: PLC0415

    verdict = evaluator.explain(obj)
    gk = group_kind_of(obj)
    metadata = obj.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}
    return {
        "file": str(path),
        "group": gk.group,
        "kind": gk.kind,
        "namespace": str(meta.get("namespace") or ""),
        "name": str(meta.get("name") or ""),
        "status": verdict.health.status.value,
        "message": verdict.health.message,
        "rule": verdict.rule,
    }


def _print(results: list[dict[str, str]], output: str) -> None:
    if output == "json":
        emit(results, OutputFormat.json)
        return
    table = Table(box=None, pad_edge=False)
    for column in ("KIND", "NAMESPACE", "NAME", "STATUS", "MESSAGE", "RULE"):
        table.add_column(column, overflow="fold")
    for r in results:
        kind = f"{r['kind']}.{r['group']}" if r["group"] else r["kind"]
        cells = (kind, r["namespace"], r["name"], r["status"], r["message"], r["rule"])
        table.add_row(*(Text(c) for c in cells))
    out_console.print(table)
