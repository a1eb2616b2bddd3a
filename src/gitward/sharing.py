"""``gitward serve --ha``: the replica (:mod:`gitward.ha`) wired to the controller.

What the controller hears from the replica (apps taken over, triggers other replicas
queued), the status of other replicas' apps mirrored from the shared store for the
API, and the SIGTERM handover. ``serve`` calls these; see docs/ha.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gitward.errors import GitwardError
from gitward.ha.replica import Hooks, Replica
from gitward.model.history import Trigger
from gitward.model.syncrequest import SyncRequest
from gitward.ports import HistoryStore
from gitward.reconcile.controller import Controller

log = logging.getLogger("gitward.ha")


def hooks(controller: Callable[[], Controller], shard_by: str = "app") -> Hooks:
    """The replica's hooks; ``controller`` is called late (it is built after them).

    ``shard_by="cluster"``: the replicas share out clusters, not apps; every app of one
    destination cluster goes to the same replica (one watch cache and connection per
    cluster on one replica only, where apps by name would open them on every replica)."""

    def cluster_of(app: str) -> str:
        spec = controller().apps.get(app)
        if spec is None:  # removed meanwhile: nobody syncs it
            return app
        return spec.destination.name or spec.destination.server or "in-cluster"

    async def gained(app: str, finish: bool) -> None:
        await controller().handed(app, Trigger.REFRESH, "gitward", finish=finish)

    async def triggered(app: str, trigger: str, actor: str, options: str) -> None:
        request = SyncRequest.decode(options) if options else None
        await controller().handed(app, Trigger(trigger), actor, request=request)

    key = cluster_of if shard_by == "cluster" else str
    return Hooks(lambda: list(controller().apps), gained, triggered, key)


async def start(
    replica: Replica | None, store: HistoryStore, controller: Controller
) -> list[asyncio.Task[None]]:
    """Take the Lease and this replica's apps before the controller starts (then only
    owned apps are synced); returns the task mirroring the others'. None: not --ha."""
    if replica is None:
        return []
    await replica.start()
    return [asyncio.create_task(mirror_status(replica, store, controller), name="ha-status")]


async def mirror_status(replica: Replica, store: HistoryStore, controller: Controller) -> None:
    """The API of any replica shows every app: the others' status comes from the store,
    where their owners write it, read again every third of a Lease."""
    while True:
        await asyncio.sleep(replica.settings.renew_every)
        try:
            for status in await store.list_status():
                if status.app in controller.apps and not replica.owns(status.app):
                    controller.status[status.app] = status
        except GitwardError as e:
            log.warning("reading the status of other replicas' apps failed: %s", e.message)


async def hand_over(replica: Replica, controller: Controller, store: HistoryStore) -> None:
    """SIGTERM: no new work; the Lease and every app no sync holds are released, so that
    the other replicas take over at once; syncs in flight finish (those that outlast the
    grace period are recorded Interrupted), then their apps are released too."""
    await replica.leave()
    await replica.drain()
    await controller.stop()
    await replica.stop()  # before recording: an owner taking over records them too
    try:
        for record in await store.mark_interrupted():
            log.warning("sync %s of %s interrupted by the shutdown", record.id, record.app)
    except GitwardError as e:
        log.warning("recording interrupted syncs failed: %s", e.message)


def problem(replica: Replica | None) -> str:
    """Why this replica syncs nothing now, for ``/readyz`` ("" if it may, or not --ha)."""
    return "" if replica is None else replica.problem
