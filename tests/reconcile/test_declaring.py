"""Adopting declarations: an app is known to triggers and workers only together with its
stored status (issue 8: at 1,000 apps a trigger landed while the status was still being
read, and the worker's round failed with KeyError). The store is real; the test holds
its status read open to stand in the window, so the order is controlled, not timed."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from gitward.model import AppSpec, Destination, SourceSpec, SyncPolicy
from gitward.model.annotations import APP_LABEL
from gitward.model.history import AppStatus, Trigger
from gitward.reconcile.controller import Controller, ControllerSettings
from gitward.reconcile.pipeline import Engine
from gitward.store import Store
from tests.reconcile.driven import DrivenClock
from tests.support.waiting import eventually

SETTINGS = ControllerSettings(poll_interval=180.0, jitter=0.0, workers=2)


class HeldStore(Store):
    """The real store, whose status reads wait until the test lets them finish."""

    reading: asyncio.Event
    release: asyncio.Event

    async def _held(self) -> None:
        self.reading.set()
        await self.release.wait()

    async def get_status(self, app: str) -> AppStatus | None:
        await self._held()
        return await super().get_status(app)

    async def list_status(self) -> list[AppStatus]:
        await self._held()
        return await super().list_status()


def no_engine(spec: AppSpec) -> Engine:
    raise AssertionError(f"{spec.name} is suspended: its round must not reach a cluster")


WEB = AppSpec(
    name="web",
    source=SourceSpec(repo_url="https://127.0.0.1:9/none.git", path="app"),
    destination=Destination(namespace="web"),
    sync_policy=SyncPolicy(automated=True),
)
LIVE = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "settings", "namespace": "web", "labels": {APP_LABEL: "web"}},
}


async def test_an_app_is_known_only_once_its_stored_status_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = DrivenClock()
    store = await HeldStore.open(f"sqlite:///{tmp_path / 'gitward.db'}", clock)
    assert isinstance(store, HeldStore)
    store.reading, store.release = asyncio.Event(), asyncio.Event()
    await store.set_suspended("web", True)  # a person suspended it before a restart
    controller = Controller(no_engine, store, clock, SETTINGS, random.Random(0))  # noqa: S311
    await controller.start()
    try:
        adopting = asyncio.create_task(controller.set_apps({"web": WEB}))
        await store.reading.wait()

        # The window: every way in finds the app not declared yet, none queues it.
        assert controller.names() == []
        with pytest.raises(KeyError):
            controller.trigger("web", Trigger.MANUAL, "alice")  # the API answers 404
        controller.on_live_event("MODIFIED", LIVE)  # a watch event from the last run
        await controller.handed("web", Trigger.REFRESH, "gitward")  # HA: taken over
        assert controller.queue.queued("web") is None

        store.release.set()
        await adopting
        assert controller.names() == ["web"]
        status = await eventually(
            lambda: controller.observed("web"),
            lambda s: [c.type for c in s.conditions] == ["Suspended"],
            what="the first round of web to record that it is suspended",
        )
        assert status.suspended  # the stored suspension held from the first round on
        assert controller.reconciles == 1
        assert "failed unexpectedly" not in caplog.text
    finally:
        await controller.stop()
        await store.close()


async def test_overlapping_declarations_are_adopted_one_after_the_other(tmp_path: Path) -> None:
    """A poll's reload and a webhook's may overlap: the later set of apps is what stays,
    each app with its status, whatever order their status reads finish in."""
    clock = DrivenClock()
    store = await HeldStore.open(f"sqlite:///{tmp_path / 'gitward.db'}", clock)
    assert isinstance(store, HeldStore)
    store.reading, store.release = asyncio.Event(), asyncio.Event()
    controller = Controller(no_engine, store, clock, SETTINGS, random.Random(0))  # noqa: S311
    other = AppSpec(name="api", source=WEB.source, destination=WEB.destination, suspend=True)
    try:
        first = asyncio.create_task(controller.set_apps({"web": WEB}))
        await store.reading.wait()
        second = asyncio.create_task(controller.set_apps({"api": other}))
        await asyncio.sleep(0)  # let the second one start: it must wait for the first
        store.release.set()
        await asyncio.gather(first, second)
        assert controller.names() == ["api"]
        assert sorted(controller.status) == ["api"]
    finally:
        await controller.stop()
        await store.close()
