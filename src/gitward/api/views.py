"""JSON shapes of the API: applications and sync records as people and tools read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gitward.model.history import SyncRecord
from gitward.ports import AppsView, HistoryStore
from gitward.reconcile.metrics import Metrics


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def sync_view(record: SyncRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "app": record.app,
        "requested": record.requested,
        "sha": record.sha,
        "trigger": record.trigger.value,
        "actor": record.actor,
        "startedAt": _time(record.started_at),
        "finishedAt": _time(record.finished_at),
        "result": record.result.value,
        "message": record.message,
        "objects": [
            {
                "object": str(a.key),
                "kind": a.key.kind,
                "namespace": a.key.namespace,
                "name": a.key.name,
                "outcome": a.outcome.value,
                "message": a.message,
            }
            for a in record.actions
        ],
        "diffSummary": record.diff_summary,
        "options": record.request.to_json(),  # a person's prune/force/resources; {}: policy
    }


async def app_view(apps: AppsView, store: HistoryStore, name: str) -> dict[str, Any]:
    spec = apps.declared(name)
    status = apps.observed(name)
    last = await store.get_sync(status.last_sync_id) if status.last_sync_id else None
    return {
        "name": name,
        "project": spec.project,
        "owner": spec.owner,  # the declaration that generated it (an app's instances)
        "source": {
            "repoURL": spec.source.repo_url,
            "path": spec.source.path,
            "targetRevision": spec.source.target_revision,
        },
        "destination": {"name": spec.destination.name, "namespace": spec.destination.namespace},
        "syncPolicy": {
            "automated": spec.sync_policy.automated,
            "prune": spec.sync_policy.prune,
            "selfHeal": spec.sync_policy.self_heal,
        },
        "dependsOn": list(spec.depends_on),
        "syncState": status.sync_state.value,
        "health": {"status": status.health.status.value, "message": status.health.message},
        "revision": {
            "live": status.live_sha,
            "wanted": status.wanted.sha if status.wanted else None,
            "requested": status.wanted.requested if status.wanted else spec.source.target_revision,
        },
        "pinned": {
            "sha": status.pin.sha,
            "by": status.pin.by,
            "at": _time(status.pin.at),
            "reason": status.pin.reason,
            "releasedByCommitAfter": status.pin.release_after,
        }
        if status.pin
        else None,
        "suspended": status.suspended or spec.suspend,
        "conditions": [
            {"type": c.type, "status": c.status, "message": c.message} for c in status.conditions
        ],
        "lastOperation": sync_view(last) if last else None,
        "updatedAt": _time(status.updated_at),
    }


def update_app_gauges(apps: AppsView, metrics: Metrics) -> None:
    metrics.apps.clear()
    counts: dict[tuple[str, str], int] = {}
    for status in apps.observed_all():
        key = (status.sync_state.value, status.health.status.value)
        counts[key] = counts.get(key, 0) + 1
    for (state, health), n in counts.items():
        metrics.apps.labels(state, health).set(n)
    metrics.queue_depth.set(apps.queue_depth())
