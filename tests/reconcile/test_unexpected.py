"""A round that fails unexpectedly (an error the step does not handle, here the store
refusing to record the status) is shown on the app and retried as what it was, with a
backoff that grows to its cap; once the store writes again the app records as usual.
The store is real (SQLite); the failure is the database's own, made by a trigger."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from gitward.model import AppSpec, Destination, SourceSpec, SyncPolicy
from gitward.model.history import Trigger
from gitward.reconcile.controller import Controller, ControllerSettings
from gitward.reconcile.pipeline import Engine
from gitward.store import Store
from tests.reconcile.driven import DrivenClock, release, stepped
from tests.support.waiting import eventually

SETTINGS = ControllerSettings(poll_interval=3600.0, jitter=0.0, workers=1)
WEB = AppSpec(
    name="web",
    source=SourceSpec(repo_url="https://127.0.0.1:9/none.git", path="app"),
    destination=Destination(namespace="web"),
    sync_policy=SyncPolicy(automated=True),
)


def no_engine(spec: AppSpec) -> Engine:
    raise AssertionError(f"{spec.name} is suspended: its round must not reach a cluster")


def refuse_status_writes(db: Path, refuse: bool) -> None:
    """Make the database itself refuse (or accept again) every write of a status."""
    with sqlite3.connect(db) as conn:
        for when in ("INSERT", "UPDATE"):
            name = f"refuse_{when.lower()}"
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            if refuse:
                conn.execute(
                    f"CREATE TRIGGER {name} BEFORE {when} ON app_status "
                    "BEGIN SELECT RAISE(ABORT, 'disk is full'); END"
                )


async def test_a_round_that_fails_unexpectedly_is_shown_and_retried_with_a_capped_backoff(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gitward.db"
    clock = DrivenClock()
    store = await Store.open(f"sqlite:///{db}", clock)
    await store.set_suspended("web", True)  # its round does nothing but record the status
    controller = Controller(no_engine, store, clock, SETTINGS, random.Random(0))  # noqa: S311
    refuse_status_writes(db, refuse=True)
    await controller.set_apps({"web": WEB})
    await controller.start()
    try:
        controller.trigger("web", Trigger.MANUAL, "alice")
        delays = []
        for attempt in range(1, 9):
            delays.append(await stepped(controller, "web", attempt))
            queued = controller.queue.queued("web")
            assert queued is not None
            assert (queued.trigger, queued.actor) == (Trigger.MANUAL, "alice")  # as it was
            [condition] = controller.observed("web").conditions  # the API shows it
            assert condition.type == "ReconcileError"
            assert "failed unexpectedly" in condition.message
            assert "disk is full" in condition.message  # the store's own error
            if attempt < 8:
                release(controller, clock, delays[-1])
        assert delays == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 180.0, 180.0]

        refuse_status_writes(db, refuse=False)
        release(controller, clock, delays[-1])
        status = await eventually(
            lambda: controller.observed("web"),
            lambda s: [c.type for c in s.conditions] == ["Suspended"],
            what="web to record its status once the store writes again",
        )
        assert status.suspended
        stored = await store.get_status("web")
        assert stored is not None
        assert [c.type for c in stored.conditions] == ["Suspended"]
        assert controller.queue.due_in("web") is None  # suspended: back to on demand
    finally:
        await controller.stop()
        await store.close()
