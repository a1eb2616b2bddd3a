"""How `diff` and `sync` show their results: colored diffs, wave progress, tables, JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from gitward.cli.output import colored_diff, err_console, out_console
from gitward.model import (
    Action,
    AppSpec,
    Change,
    Health,
    HealthStatus,
    JsonObject,
    Outcome,
    Phase,
    ResourceKey,
    Step,
    worst,
)
from gitward.plan import normalize_pair, unified_diff
from gitward.reconcile.pipeline import Look, SyncResult

_HEALTH_STYLE = {
    HealthStatus.HEALTHY: "green",
    HealthStatus.PROGRESSING: "yellow",
    HealthStatus.DEGRADED: "red",
    HealthStatus.MISSING: "red",
    HealthStatus.SUSPENDED: "blue",
    HealthStatus.UNKNOWN: "dim",
}
_OUTCOME_STYLE = {
    Outcome.CREATED: "green",
    Outcome.CONFIGURED: "yellow",
    Outcome.REPLACED: "yellow",
    Outcome.PRUNED: "magenta",
    Outcome.FAILED: "bold red",
    Outcome.HOOK_FAILED: "bold red",
    Outcome.HOOK_SUCCEEDED: "green",
    Outcome.UNCHANGED: "dim",
    Outcome.SKIPPED: "blue",
}


class DiffPrinter:
    def __init__(self, app: AppSpec) -> None:
        self.app = app

    def _sides(self, step: Step, planned: Look) -> tuple[JsonObject | None, JsonObject | None]:
        after: JsonObject | None = None
        if step.action is not Action.PRUNE and step.desired is not None:
            after = planned.predicted.get(step.key, step.desired.body)
        live = step.live if step.action is not Action.CREATE else None
        after_n, live_n = normalize_pair(step.key, after, live, self.app.ignore_differences)
        return live_n, after_n

    def print(self, planned: Look) -> int:
        """Print every difference; the exit code: 0 in sync, 1 different, 2 errors."""
        different = False
        for step in planned.plan.steps:
            if step.action in (Action.UNCHANGED, Action.KEEP, Action.HOOK):
                continue
            different = True
            before, after = self._sides(step, planned)
            label = f"{step.key}"
            note = f" ({step.reason})" if step.reason else ""
            out_console.print(f"[bold]{step.action.value}[/bold] {escape(label)}{escape(note)}")
            text = unified_diff(before, after, label)
            if text:
                out_console.print(colored_diff(text), soft_wrap=True)
        for key, conflict in sorted(planned.conflicts.items()):
            err_console.print(
                f"[yellow]conflict:[/yellow] {escape(str(key))}: "
                f"{escape(conflict.detail)}; sync needs --force-conflicts",
                soft_wrap=True,
            )
        for key, error in sorted(planned.errors.items()):
            err_console.print(
                f"[red]error:[/red] {escape(str(key))}: {escape(error.detail)}", soft_wrap=True
            )
        summary = _plan_summary(planned.plan.steps)
        err_console.print(f"{self.app.name} at {planned.revision}: {summary}")
        if planned.errors:
            return 2
        return 1 if different else 0


def _plan_summary(steps: Sequence[Step]) -> str:
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.action.value] = counts.get(step.action.value, 0) + 1
    return (
        ", ".join(
            f"{n} to {a}" if a not in ("unchanged", "keep") else f"{n} {a}"
            for a, n in sorted(counts.items())
        )
        or "nothing rendered"
    )


class SyncReporter:
    """Prints one line per wave as it starts and ends, and failures as they happen."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._wave: list[Change] = []

    def wave_started(self, phase: Phase, wave: int, steps: Sequence[Step]) -> None:
        self._wave = []
        if not self.quiet:
            err_console.print(f"[cyan]…[/cyan] {phase.value} wave {wave}: {len(steps)} objects")

    def object_done(self, change: Change) -> None:
        self._wave.append(change)
        if not self.quiet and change.outcome in (Outcome.FAILED, Outcome.HOOK_FAILED):
            err_console.print(
                f"  [red]✗[/red] {escape(str(change.key))}: {escape(change.message)}",
                soft_wrap=True,
            )

    async def wave_done(
        self, phase: Phase, wave: int, stored: dict[ResourceKey, JsonObject]
    ) -> None:
        if self.quiet:
            return
        counts: dict[str, int] = {}
        for change in self._wave:
            counts[change.outcome.value] = counts.get(change.outcome.value, 0) + 1
        summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
        err_console.print(f"[green]✓[/green] {phase.value} wave {wave}: {summary}")


def sync_table(app: AppSpec, result: SyncResult, dry_run: bool) -> None:
    if dry_run:
        table = Table("object", "planned action", "reason", title=f"{app.name}: plan (dry run)")
        for step in result.plan.steps:
            table.add_row(escape(str(step.key)), step.action.value, escape(step.reason))
        out_console.print(table)
        return
    table = Table("object", "action", "health", "message", title=f"{app.name} at {result.revision}")
    for change in result.changes.changes:
        health = result.health.get(change.key) or change.health
        style = _OUTCOME_STYLE.get(change.outcome, "")
        table.add_row(
            escape(str(change.key)),
            f"[{style}]{change.outcome.value}[/{style}]",
            _health_cell(health),
            escape(change.message or ""),
        )
    out_console.print(table)
    overall = worst(list(result.health.values()))
    state = "[red]failed[/red]" if result.failed else "[green]succeeded[/green]"
    note = f" ({escape(overall.message)})" if not result.health else ""
    err_console.print(
        f"sync {state} in {result.seconds:.1f}s; health: {_health_cell(overall)}{note}"
    )


def _health_cell(health: Health | None) -> str:
    if health is None:
        return ""
    style = _HEALTH_STYLE.get(health.status, "")
    return f"[{style}]{health.status.value}[/{style}]"


def sync_to_data(app: AppSpec, result: SyncResult) -> dict[str, Any]:
    def health(key: ResourceKey) -> dict[str, str] | None:
        h = result.health.get(key)
        return {"status": h.status.value, "message": h.message} if h else None

    return {
        "app": app.name,
        "revision": {
            "requested": result.revision.requested,
            "sha": result.revision.sha,
            "repo": result.revision.repo_url,
        },
        "result": "failed" if result.failed else "succeeded",
        "seconds": round(result.seconds, 3),
        "health": worst(list(result.health.values())).status.value,
        "objects": [
            {
                "group": c.key.group,
                "kind": c.key.kind,
                "namespace": c.key.namespace,
                "name": c.key.name,
                "action": c.outcome.value,
                "phase": c.phase.value,
                "wave": c.wave,
                "message": c.message,
                "health": health(c.key),
            }
            for c in result.changes.changes
        ],
        "plan": [
            {"object": str(s.key), "action": s.action.value, "reason": s.reason}
            for s in result.plan.steps
        ]
        if not result.changes.changes
        else [],
    }
